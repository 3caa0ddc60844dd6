import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The nearest folder at or above `from` that holds a package.json: the service's own folder, wherever its code
 * runs from (the one bundled file dist/main.js, the test build's build/main.js, or a module under build/src/).
 */
export function packageRootOf(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return from;
  }
}

/** Where the service is installed: node_modules, dist/ and web/dist are under it. */
export const PACKAGE_ROOT = packageRootOf(dirname(fileURLToPath(import.meta.url)));
