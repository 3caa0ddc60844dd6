#!/usr/bin/env node
// Compiles src/ and test/ with tsc (decorator metadata needs it) and runs every spec with node's test runner.
// Usage: npm test [-- <path substring> ...]  e.g. `npm test -- direct` runs only specs whose path contains "direct".
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

function findSpecs(dir) {
  const found = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) found.push(...findSpecs(path));
    else if (/\.(spec|e2e-spec)\.js$/.test(entry)) found.push(path);
  }
  return found;
}

const filters = process.argv.slice(2);
const specs = ['src', 'test']
  .flatMap((dir) => findSpecs(join(root, 'build', dir)))
  .filter((path) => filters.length === 0 || filters.some((filter) => relative(root, path).includes(filter)))
  .sort();
if (specs.length === 0) {
  console.error(`No spec matches ${filters.join(', ')}`);
  process.exit(1);
}
const run = spawnSync(
  process.execPath,
  ['--test', '--test-reporter=spec', `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 3}`, '--test-timeout=300000', ...specs],
  { stdio: 'inherit', cwd: root, env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(run.status ?? 1);
