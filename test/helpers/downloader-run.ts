import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AppConfig } from '../../src/config/app-config.js';
import type { DownloadJob, DownloadOutput, ProgressReport } from '../../src/engine/download-job.js';
import type { Downloader } from '../../src/downloaders/downloader.interface.js';
import type { DownloadType } from '../../src/common/download-type.enum.js';
import { HttpClient } from '../../src/engine/http-client.js';

export interface RunOptions {
  signal?: AbortSignal;
  onProgress?: (report: ProgressReport) => void;
}

export interface StartedRun {
  promise: Promise<DownloadOutput>;
  /** Every progress report so far, each copied as it came. */
  progress: ProgressReport[];
  log: string[];
}

export interface RunResult {
  output: DownloadOutput;
  progress: ProgressReport[];
  log: string[];
}

/** Starts any downloader on a job, collecting its progress reports and log lines while it runs. */
export function startRun(downloader: Downloader, job: DownloadJob, options: RunOptions = {}): StartedRun {
  const progress: ProgressReport[] = [];
  const log: string[] = [];
  const promise = downloader.run(job, {
    signal: options.signal ?? new AbortController().signal,
    progress: (report) => {
      progress.push({ ...report });
      options.onProgress?.(report);
    },
    log: (line) => log.push(line),
  });
  return { promise, progress, log };
}

/** Runs any downloader on a job to its end: the output with every progress report and log line. */
export async function run(downloader: Downloader, job: DownloadJob, options: RunOptions = {}): Promise<RunResult> {
  const { promise, progress, log } = startRun(downloader, job, options);
  return { output: await promise, progress, log };
}

/** Runs a downloader until it reports percent done, then aborts it, and asserts the run rejected with an AbortError. */
export async function runAndStopAt(downloader: Downloader, job: DownloadJob, percent: number): Promise<void> {
  const controller = new AbortController();
  let settle: ((error: Error) => void) | null = null;
  const deadline = new Promise<never>((_, reject) => (settle = reject));
  const stopped = run(downloader, job, {
    signal: controller.signal,
    onProgress: (report) => {
      if ((report.percent ?? 0) < percent || controller.signal.aborted) return;
      controller.abort();
      // promptly: the run must end soon after the stop, whatever it was doing
      setTimeout(() => settle?.(new Error('the run did not end within 15 s of the stop')), 15_000).unref();
    },
  });
  await assert.rejects(Promise.race([stopped, deadline]), (error: Error) => error.name === 'AbortError');
}

/** An HTTP client with the stall timeout and retry policy of a config, as the service builds it. */
export function httpClientFor(config: AppConfig): HttpClient {
  return new HttpClient({ stallTimeoutMs: config.stallTimeoutMs, retry: { attempts: config.retryAttempts, baseDelayMs: config.retryBaseDelayMs } });
}

/** Job number id of the given type for url, named job-<id>, writing into root and working in root/work/job-<id>. */
export function jobIn(root: string, id: number, type: DownloadType, url: string, overrides: Partial<DownloadJob> = {}): DownloadJob {
  return {
    id,
    type,
    url,
    name: `job-${id}`,
    nameIsDerived: false,
    headers: [],
    isLive: false,
    outputDir: root,
    workDir: join(root, 'work', `job-${id}`),
    deleteSegments: true,
    quality: 'best',
    audioLanguages: [],
    subtitleLanguages: [],
    speedLimit: null,
    ...overrides,
  };
}

/** The complete segment files a segmented download keeps for one track in its working directory. */
export function segmentFiles(job: DownloadJob, track = 'video'): string[] {
  const dir = join(job.workDir, 'segments', track);
  return existsSync(dir) ? readdirSync(dir).filter((file) => !file.endsWith('.part')) : [];
}
