// Installs the npm dependencies when they are missing or older than the lock file, and builds dist/ when
// it is missing or older than the sources. Shared by `npm start` and `npm test` so a fresh clone just works.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const root = new URL('..', import.meta.url).pathname;

function run(command, args, cwd = root) {
  const result = spawnSync(command, args, { stdio: 'inherit', cwd });
  if (result.status !== 0) {
    console.error(`\n${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status ?? 1);
  }
}

function newest(path) {
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  return readdirSync(path).reduce((latest, entry) => Math.max(latest, newest(join(path, entry))), stats.mtimeMs);
}

export function ensureDependencies() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  if (!existsSync(marker) || statSync(marker).mtimeMs < statSync(join(root, 'package-lock.json')).mtimeMs) {
    console.log('Installing npm dependencies (sqlite3 builds from source: about a minute)…');
    run('npm', ['ci', '--no-audit', '--no-fund']);
  }
}

export function ensureBuilt() {
  const main = join(root, 'dist', 'main.js');
  if (!existsSync(main) || statSync(main).mtimeMs < newest(join(root, 'src'))) {
    console.log('Building dist/ …');
    run('npm', ['run', 'build']);
  }
}

/** The dashboard (web/): its own dependencies, and web/dist when missing or older than its sources. */
export function ensureWebBuilt() {
  const web = join(root, 'web');
  const marker = join(web, 'node_modules', '.package-lock.json');
  if (!existsSync(marker) || statSync(marker).mtimeMs < statSync(join(web, 'package-lock.json')).mtimeMs) {
    console.log('Installing the dashboard\'s dependencies…');
    run('npm', ['ci', '--no-audit', '--no-fund'], web);
  }
  const page = join(web, 'dist', 'index.html');
  const sources = Math.max(newest(join(web, 'src')), statSync(join(web, 'index.html')).mtimeMs, statSync(join(web, 'vite.config.ts')).mtimeMs);
  if (!existsSync(page) || statSync(page).mtimeMs < sources) {
    console.log('Building the dashboard (web/dist) …');
    run('npm', ['run', 'build'], web);
  }
}
