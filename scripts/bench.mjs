#!/usr/bin/env node
// `npm run bench`: compiles, then runs test/bench/run-bench.ts (our engines beside aria2c, ffmpeg and yt-dlp).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureDependencies, root } from './ensure-installed.mjs';

ensureDependencies();
const out = join(root, 'build');
const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
const run = spawnSync(process.execPath, [join(out, 'test', 'bench', 'run-bench.js'), ...process.argv.slice(2)], {
  stdio: 'inherit',
  cwd: root,
  // the bench origins are on loopback, which the address guard refuses by default
  env: { ALLOW_PRIVATE_ADDRESSES: 'true', ...process.env },
});
process.exit(run.status ?? 1);
