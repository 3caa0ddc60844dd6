import { stat } from 'node:fs/promises';

/** How long an answer about a file is reused: the contract allows `exists` to lag a few seconds. */
export const FILE_PRESENCE_TTL_MS = 3_000;
/** Past this many remembered paths, expired ones are dropped, so the cache never grows with the task count. */
const MAX_ENTRIES = 10_000;

/**
 * Whether finished tasks' files are on disk now, asked of the file system at most once per path
 * and TTL, with the paths of one page checked in parallel: listing 100 tasks stays one round of stats.
 */
export class FilePresence {
  private readonly known = new Map<string, { exists: boolean; checkedAt: number }>();
  private readonly pending = new Map<string, Promise<boolean>>();

  constructor(
    private readonly ttlMs = FILE_PRESENCE_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when a regular file is at each path; the answer per path, in a map. */
  async check(paths: Iterable<string>): Promise<Map<string, boolean>> {
    const unique = [...new Set(paths)];
    const answers = await Promise.all(unique.map((path) => this.exists(path)));
    return new Map(unique.map((path, index) => [path, answers[index]]));
  }

  exists(path: string): Promise<boolean> {
    const cached = this.known.get(path);
    if (cached && this.now() - cached.checkedAt < this.ttlMs) return Promise.resolve(cached.exists);
    const running = this.pending.get(path);
    if (running) return running;
    const checking = stat(path).then(
      (found) => found.isFile(),
      () => false,
    );
    this.pending.set(path, checking);
    return checking.then((exists) => {
      this.pending.delete(path);
      this.remember(path, exists);
      return exists;
    });
  }

  /** A path the service itself just changed (deleted, replaced) is asked again next time. */
  forget(path: string): void {
    this.known.delete(path);
  }

  private remember(path: string, exists: boolean): void {
    if (this.known.size >= MAX_ENTRIES) {
      const now = this.now();
      for (const [key, entry] of this.known) if (now - entry.checkedAt >= this.ttlMs) this.known.delete(key);
      if (this.known.size >= MAX_ENTRIES) this.known.clear();
    }
    this.known.set(path, { exists, checkedAt: this.now() });
  }
}
