import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the built dashboard (web/dist) is: WEB_DIR when set, else beside the compiled service (dist/ → ../web/dist;
 * the test build in build/src/ → ../../web/dist). Null when it has not been built.
 */
export function findDashboardDir(explicit: string | null): string | null {
  if (explicit) return existsSync(join(explicit, 'index.html')) ? explicit : null;
  const here = fileURLToPath(new URL('.', import.meta.url));
  for (const candidate of [join(here, '..', '..', 'web', 'dist'), join(here, '..', '..', '..', 'web', 'dist')]) {
    if (existsSync(join(candidate, 'index.html'))) return candidate;
  }
  return null;
}

/** Hashed assets never change under their name; the page itself is revalidated so that a new build shows at once. */
export function cacheControlFor(path: string): string {
  return /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache';
}

/** The page loads only its own files and talks only to its own origin; media may also come from blob: (the player's hls.js feeds the video through Media Source Extensions). */
export const DASHBOARD_CSP = "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
