#!/usr/bin/env node
// `npm run bench`: compiles, then runs test/bench/run-bench.ts (our engines beside aria2c, ffmpeg and yt-dlp).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { bundle } from './bundle.mjs';
import { ensureDependencies, root } from './ensure-installed.mjs';
import { ensurePostgres } from './postgres.mjs';

ensureDependencies();
const out = join(root, 'build');
const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
// the service runs as users run it: one bundled file
await bundle(join(out, 'src'), out);
// the scale section runs nodes on PostgreSQL, each node count on a database of its own on this server
const names = ['direct', 'm3u8', 'store', 'scale'];
const chosen = process.argv.slice(2).filter((name) => names.includes(name));
let postgres = { url: '', started: false, stop: () => undefined };
let problem = '';
if (chosen.length === 0 || chosen.includes('scale')) {
  try {
    postgres = await ensurePostgres();
    if (postgres.started) console.log(`Started a throwaway PostgreSQL cluster for the scale bench: ${postgres.url}\n`);
  } catch (error) {
    // the scale section says it was skipped, and why; the others run
    problem = error.message;
  }
}
const run = spawnSync(process.execPath, [join(out, 'test', 'bench', 'run-bench.js'), ...process.argv.slice(2)], {
  stdio: 'inherit',
  cwd: root,
  // the bench origins are on loopback, which the address guard refuses by default
  env: {
    ALLOW_PRIVATE_ADDRESSES: 'true',
    ...process.env,
    ...(postgres.url ? { TEST_DATABASE_URL: postgres.url } : {}),
    ...(problem ? { BENCH_POSTGRES_PROBLEM: problem } : {}),
  },
});
postgres.stop();
process.exit(run.status ?? 1);
