import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../config/package-root.js';

/** Where the built dashboard is: WEB_DIR when set, else web/dist in the service's folder. Null when it has not been built. */
export function findDashboardDir(explicit: string | null): string | null {
  const dir = explicit ?? join(PACKAGE_ROOT, 'web', 'dist');
  return existsSync(join(dir, 'index.html')) ? dir : null;
}

/** Hashed assets never change under their name; the page itself is revalidated so that a new build shows at once. */
export function cacheControlFor(path: string): string {
  return /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache';
}

/** The page loads only its own files and talks only to its own origin; media may also come from blob: (the player's hls.js feeds the video through Media Source Extensions). */
export const DASHBOARD_CSP = "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
