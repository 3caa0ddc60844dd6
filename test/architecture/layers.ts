import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/**
 * The layers of src/, lowest first. A file may import its own folder and any lower layer, never a higher one,
 * and never a sibling folder of its own layer (specs excepted: they assemble what they test): data flows API → lifecycle → scheduler → strategies → engine.
 */
export const LAYERS: ReadonlyArray<{ name: string; folders: readonly string[] }> = [
  { name: 'configuration', folders: ['config'] },
  { name: 'shared helpers', folders: ['common', 'logging'] },
  { name: 'engine', folders: ['engine'] },
  { name: 'strategies', folders: ['downloaders'] },
  { name: 'task store and events', folders: ['tasks', 'events'] },
  { name: 'cluster', folders: ['cluster'] },
  { name: 'scheduler', folders: ['scheduler'] },
  { name: 'lifecycle', folders: ['lifecycle'] },
  { name: 'API', folders: ['downloads', 'settings', 'metrics', 'webhooks', 'health', 'dashboard'] },
  { name: 'database setup', folders: ['database'] },
  { name: 'composition root', folders: ['.'] },
];

/**
 * Imports between folders of one layer that are part of the design: the API's edges share the downloads
 * DTOs and their validators (settings validates a directory and a speed limit the same way, webhooks send
 * the task view the API answers with).
 */
export const SAME_LAYER_ALLOWED: ReadonlyArray<[from: string, to: string]> = [
  ['settings', 'downloads'],
  ['webhooks', 'downloads'],
  ['metrics', 'downloads'],
];

export interface ImportEdge {
  /** Path of the importing file, relative to src/, with forward slashes. */
  from: string;
  /** Path of the imported file, relative to src/. */
  to: string;
}

/** The folder a file under src/ belongs to, as LAYERS names it: its first path segment, or "." at the top. */
export function folderOf(path: string): string {
  const parts = path.split('/');
  return parts.length === 1 ? '.' : parts[0];
}

function layerIndex(folder: string): number {
  const index = LAYERS.findIndex((layer) => layer.folders.includes(folder));
  if (index < 0) throw new Error(`src/${folder}/ is in no layer of test/architecture/layers.ts: add it to the layer it belongs to`);
  return index;
}

/** A strategy's own folder under downloaders/ (null for the registry, the interface and the module beside them). */
function strategyOf(path: string): string | null {
  const parts = path.split('/');
  return parts[0] === 'downloaders' && parts.length > 2 ? parts[1] : null;
}

/** One sentence per import that breaks the layering; empty when the graph points one way. */
export function layeringViolations(edges: ImportEdge[]): string[] {
  const problems: string[] = [];
  for (const { from, to } of edges) {
    // a spec assembles what it tests (a repository spec runs the migrations): the rule is for the code it tests
    if (/\.spec\.ts$/.test(from)) continue;
    const source = folderOf(from);
    const target = folderOf(to);
    if (source === target) {
      const strategy = strategyOf(from);
      const other = strategyOf(to);
      if (strategy && other && strategy !== other) problems.push(`${from} imports ${to}: a strategy imports only engine/, common/ and its own folder; code two strategies share belongs in engine/`);
      continue;
    }
    const up = layerIndex(target) - layerIndex(source);
    if (up > 0) problems.push(`${from} imports ${to}: the ${LAYERS[layerIndex(source)].name} layer must not import the ${LAYERS[layerIndex(target)].name} layer above it`);
    else if (up === 0 && !SAME_LAYER_ALLOWED.some(([a, b]) => a === source && b === target)) {
      problems.push(`${from} imports ${to}: ${source}/ and ${target}/ are peers in the ${LAYERS[layerIndex(source)].name} layer and do not reach into each other`);
    }
  }
  return problems;
}

/** Every relative import (static, dynamic or type-only) of every .ts file under the source root, as read by TypeScript's own scanner. */
export function importEdges(sourceRoot: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  const walk = (directory: string): void => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        const { importedFiles } = ts.preProcessFile(readFileSync(path, 'utf8'), true, true);
        for (const { fileName } of importedFiles) {
          if (!fileName.startsWith('.')) continue;
          const target = resolve(dirname(path), fileName);
          const toSrc = (file: string) => relative(sourceRoot, file).split(sep).join('/');
          // files outside src/ (package.json) are no layer's business
          if (toSrc(target).startsWith('../')) continue;
          edges.push({ from: toSrc(path), to: toSrc(target).replace(/\.js$/, '.ts') });
        }
      }
    }
  };
  walk(sourceRoot);
  return edges;
}
