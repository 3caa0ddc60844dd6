#!/usr/bin/env node
// `npm start`: installs and builds what is missing, then runs the service (configuration from the environment).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ensureBuilt, ensureDependencies, ensureWebBuilt, root } from './ensure-installed.mjs';

ensureDependencies();
ensureBuilt();
ensureWebBuilt();
// no Node flags: the service caps its young generation itself (src/young-generation.ts)
const child = spawn(process.execPath, [join(root, 'dist', 'main.js')], { stdio: 'inherit', cwd: process.cwd() });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
