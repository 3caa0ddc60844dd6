import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { killGroup, spawnGroup } from '../../engine/child-process.js';
import { ytdlpEnvironment } from './ytdlp-arguments.js';

export interface YtdlpProcessOptions {
  cwd: string;
  signal: AbortSignal;
  /**
   * On abort, SIGINT yt-dlp alone (it then tells ffmpeg to finish the file and runs its post-processing)
   * instead of ending the whole process group at once. For live recordings.
   */
  interruptOnAbort: boolean;
  /** How long an interrupted yt-dlp gets to finalise before the group is killed. */
  finaliseTimeoutMs: number;
  /** How long the group gets after SIGTERM before SIGKILL. */
  killGraceMs: number;
  onLine: (line: string) => void;
}

export interface YtdlpExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the run ended because the abort signal fired. */
  aborted: boolean;
}

/**
 * Runs yt-dlp in its own process group and resolves once it and everything it started are gone.
 * Never rejects for an abort: the caller decides what an aborted run means (fail or keep the recording).
 */
export async function runYtdlpProcess(command: string, args: string[], options: YtdlpProcessOptions): Promise<YtdlpExit> {
  const child = spawnGroup(command, args, {
    cwd: options.cwd,
    // UTF-8 titles and file names whatever the service's locale; no buffering between lines
    env: ytdlpEnvironment({ PYTHONIOENCODING: 'utf-8', PYTHONUNBUFFERED: '1' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // rejects with the spawn failure (ENOENT, EACCES) if yt-dlp cannot be started
  const closed = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  createInterface({ input: child.stdout! }).on('line', options.onLine);
  createInterface({ input: child.stderr! }).on('line', options.onLine);

  let finaliseTimer: NodeJS.Timeout | undefined;
  const stop = () => {
    if (!options.interruptOnAbort) {
      void killGroup(child, options.killGraceMs);
      return;
    }
    signalProcess(child.pid, 'SIGINT');
    finaliseTimer = setTimeout(() => void killGroup(child, options.killGraceMs), options.finaliseTimeoutMs);
    finaliseTimer.unref();
  };
  if (options.signal.aborted) stop();
  else options.signal.addEventListener('abort', stop, { once: true });
  try {
    const [code, signal] = await closed;
    return { code, signal, aborted: options.signal.aborted };
  } finally {
    options.signal.removeEventListener('abort', stop);
    clearTimeout(finaliseTimer);
    // whatever yt-dlp started and left behind (an ffmpeg it did not wait for) is still in its group
    if (child.pid !== undefined) signalProcess(-child.pid, 'SIGKILL');
  }
}

function signalProcess(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}
