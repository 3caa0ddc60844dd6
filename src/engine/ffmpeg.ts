import { PermanentError } from './http-error.js';
import { runProcess } from './child-process.js';

export interface FfmpegRunOptions {
  signal?: AbortSignal;
  log?: (line: string) => void;
  cwd?: string;
}

/**
 * Runs ffmpeg with the given arguments (-y, -nostdin and a quiet log level are added).
 * Rejects with a PermanentError carrying ffmpeg's own last error lines when it fails.
 */
export async function runFfmpeg(ffmpegPath: string, args: string[], options: FfmpegRunOptions = {}): Promise<void> {
  const fullArgs = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...args];
  options.log?.(`ffmpeg ${fullArgs.join(' ')}`);
  const result = await runProcess(ffmpegPath, fullArgs, {
    signal: options.signal,
    cwd: options.cwd,
    onLine: (line) => options.log?.(`ffmpeg: ${line}`),
  });
  if (result.code !== 0) {
    const reason = result.tail.filter((line) => line.trim()).slice(-3).join(' | ') || `exit code ${result.code ?? result.signal}`;
    throw new PermanentError(`ffmpeg failed: ${reason}`);
  }
}
