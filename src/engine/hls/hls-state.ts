import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MediaSegment } from './playlist.js';

/** A live segment as recorded, kept across runs so that a resumed recording continues the same file. */
export interface RecordedSegment {
  sequence: number;
  discontinuity: boolean;
  file: string;
  init: string | null;
}

/** The small manifest kept in workDir: what the segment files on disk belong to. */
export interface HlsState {
  version: 1;
  /** Identifies the stream (segment paths and ranges, query strings left out since tokens change between runs). */
  fingerprint: string;
  live: Record<string, RecordedSegment[]> | null;
}

const STATE_FILE = 'hls-state.json';

export function statePath(workDir: string): string {
  return join(workDir, STATE_FILE);
}

export async function readState(workDir: string): Promise<HlsState | null> {
  try {
    const state = JSON.parse(await readFile(statePath(workDir), 'utf8')) as HlsState;
    return state.version === 1 && typeof state.fingerprint === 'string' ? state : null;
  } catch {
    return null;
  }
}

/** Written under a temporary name and renamed, so a crash never leaves half a manifest. */
export async function writeState(workDir: string, state: HlsState): Promise<void> {
  const path = statePath(workDir);
  await writeFile(`${path}.part`, JSON.stringify(state));
  await rename(`${path}.part`, path);
}

/** Same stream, same segments: paths, ranges and sequence numbers, ignoring query strings. */
export function fingerprint(parts: Array<{ kind: string; segments: MediaSegment[] } | { kind: string; url: string }>): string {
  const hash = createHash('sha1');
  for (const part of parts) {
    hash.update(`${part.kind}\n`);
    if ('url' in part) hash.update(`${withoutQuery(part.url)}\n`);
    else for (const segment of part.segments) hash.update(`${segment.sequence} ${withoutQuery(segment.url)} ${segment.range?.offset ?? ''}-${segment.range?.length ?? ''}\n`);
  }
  return hash.digest('hex');
}

function withoutQuery(url: string): string {
  const cut = url.search(/[?#]/);
  return cut === -1 ? url : url.slice(0, cut);
}
