#!/usr/bin/env node
// Compiles src/ and test/ with tsc (decorator metadata needs it), lints (a whole run), and runs every spec with node's test runner.
// Usage: npm test [-- <path substring> ...]  e.g. `npm test -- direct` runs only specs whose path contains "direct".
// TEST_BUILD_DIR picks another output folder (default build/), TEST_CONCURRENCY the number of spec files run at once.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { bundle } from './bundle.mjs';
import { ensureDependencies, ensureWebBuilt, root } from './ensure-installed.mjs';
import { ensurePostgres } from './postgres.mjs';

ensureDependencies();
ensureWebBuilt();
const out = join(root, process.env.TEST_BUILD_DIR ?? 'build');
const tsc = spawnSync(
  process.execPath,
  [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json'), '--outDir', out, '--tsBuildInfoFile', join(out, '.tsbuildinfo')],
  { stdio: 'inherit' },
);
const typeErrors = tsc.status !== 0;
if (typeErrors) console.error('\ntsc reported errors (above); the specs run anyway, and the run fails at the end.\n');
// the specs that run the service as its own process run it as users do: one bundled file (see scripts/bundle.mjs)
await bundle(join(out, 'src'), out);

function findSpecs(dir) {
  if (!existsSync(dir)) return [];
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
  .flatMap((dir) => findSpecs(join(out, dir)))
  .filter((path) => filters.length === 0 || filters.some((filter) => relative(out, path).includes(filter)))
  .sort();
if (specs.length === 0 && !filters.includes('web')) {
  console.error(`No spec matches ${filters.join(', ') || 'anything'}`);
  process.exit(1);
}
// a whole run lints too (ESLint, and the dashboard's type-check; tsc above checked the service's types): CI runs
// `npm test` alone, and a lint failure once went unnoticed for several commits while it ran only in `npm run lint`
const lintStatus =
  filters.length === 0
    ? Math.max(
        spawnSync(process.execPath, [join(root, 'node_modules/eslint/bin/eslint.js'), '.', '--ignore-pattern', `${relative(root, out)}/`], { stdio: 'inherit', cwd: root }).status ?? 1,
        spawnSync('npm', ['--prefix', 'web', 'run', 'typecheck'], { stdio: 'inherit', cwd: root }).status ?? 1,
      )
    : 0;
if (lintStatus !== 0) console.error('\nThe linter reported problems (above); the specs run anyway, and the run fails at the end.\n');
// the dashboard's own unit tests (Vitest) first, so that node's summary closes the output; `npm test -- web` runs them alone
const webStatus = filters.length === 0 || filters.includes('web') ? (spawnSync('npm', ['test'], { stdio: 'inherit', cwd: join(root, 'web') }).status ?? 1) : 0;
// the specs that need PostgreSQL read TEST_DATABASE_URL; each makes its own database on that server
let postgres = { url: '', started: false, stop: () => undefined };
try {
  postgres = await ensurePostgres();
  if (postgres.started) console.log(`Started a throwaway PostgreSQL cluster for the tests: ${postgres.url}`);
} catch (error) {
  // the specs that need it fail saying so; the rest still run
  console.error(`\n${error.message}\n`);
}
const run =
  specs.length === 0
    ? { status: 0 }
    : spawnSync(
        process.execPath,
        ['--enable-source-maps', '--test', '--test-reporter=spec', `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 3}`, '--test-timeout=300000', ...specs],
        { stdio: 'inherit', cwd: root, env: { ...process.env, NODE_ENV: 'test', ...(postgres.url ? { TEST_DATABASE_URL: postgres.url } : {}) } },
      );
postgres.stop();
process.exit(typeErrors || lintStatus !== 0 ? 1 : (run.status ?? 1) || webStatus);
