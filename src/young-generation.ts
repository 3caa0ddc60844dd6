import { setFlagsFromString } from 'node:v8';

/**
 * Keeps V8's young generation at its initial size (1 MiB per semi-space on 64-bit) for the life of
 * the process, so that `node dist/main.js` needs no flag. The service is I/O-bound: left to itself,
 * V8 doubles the young generation under the allocation bursts of start-up and downloads, up to 16 MiB
 * per semi-space on Node 20 and 22 and 32 MiB on Node 24, and the pages it touched stay resident
 * (about 30–45 MiB more RSS, idle and at peak).
 *
 * `--max-semi-space-size` cannot do this at run time: it is read once, when the heap is set up.
 * The growth factor is read each time V8 decides to grow, so setting it to 1 before anything has
 * allocated much (this module is main.ts's first import) leaves the young generation where it
 * started: the same heap as `node --max-semi-space-size=1`, without a wrapper or a second process.
 *
 * A size or growth factor given on the command line or in NODE_OPTIONS is left as it is.
 */
export const YOUNG_GENERATION_FLAG = '--semi-space-growth-factor=1';

/**
 * With collections that frequent, the buffers of received data that die young are many; V8 frees
 * them after each collection on a background thread, which on a busy machine falls behind: on
 * Node 24 the direct bench's service peaked at 155-198 MiB with it, 144-160 MiB without (Node 20
 * showed no clear difference). Freed during the collection itself, they go at once.
 */
export const ARRAY_BUFFER_SWEEPING_FLAG = '--no-concurrent-array-buffer-sweeping';

export function chosenByUser(argv: readonly string[], nodeOptions: string | undefined): boolean {
  return [...argv, ...(nodeOptions ?? '').split(/\s+/)].some((arg) => /^--(max|min)[-_]semi[-_]space[-_]size|^--semi[-_]space[-_]growth[-_]factor/.test(arg));
}

if (!chosenByUser(process.execArgv, process.env.NODE_OPTIONS)) {
  setFlagsFromString(YOUNG_GENERATION_FLAG);
  setFlagsFromString(ARRAY_BUFFER_SWEEPING_FLAG);
}
