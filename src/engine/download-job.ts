import type { DownloadType } from '../common/download-type.enum.js';
import type { AppConfig } from '../config/app-config.js';
import type { HttpClient } from './http-client.js';
import type { MediaQuality } from '../config/media-choice.js';

// The contract between a strategy and the engine it drives: what one run is given, reports and returns.

/** What a strategy is given to do: one task, resolved to absolute paths, headers parsed. */
export interface DownloadJob {
  id: number;
  type: DownloadType;
  url: string;
  /** Safe base name without extension; the scheduler makes the final path unique. */
  name: string;
  /** True when the name was derived from the URL, so a strategy may offer a better title. */
  nameIsDerived: boolean;
  /** Header lines parsed into pairs, in the order given; sent with every request the task makes. */
  headers: Array<[string, string]>;
  isLive: boolean;
  /** Absolute directory the final file goes to (localPath or DOWNLOAD_DIR, plus folder). */
  outputDir: string;
  /**
   * Bytes per second this task may use (the tighter of its own and the global limit), for tools that take one
   * number; our own engines are limited through the shared HTTP client and need not read it. Null: no limit.
   */
  speedLimit: number | null;
  /** Absolute hidden working directory beside the output, kept across runs for resuming. */
  workDir: string;
  deleteSegments: boolean;
  /** The task's own choice, else the installation's default: best, a maximum picture height, or the sound alone. */
  quality: MediaQuality;
  /** Audio languages, best first (canonical BCP-47); empty: the source's default audio. A missing one falls back, with a log line. */
  audioLanguages: string[];
  /** Subtitle languages to save beside the file (canonical BCP-47); empty: none. */
  subtitleLanguages: string[];
}

/** A snapshot of progress; the scheduler derives percent, speed and ETA from it. */
export interface ProgressReport {
  downloadedBytes: number;
  /** Null while unknown. */
  totalBytes: number | null;
  /** Optional estimate in 0..100 when bytes alone cannot tell (e.g. segments done / total). */
  percent?: number | null;
}

export interface DownloadContext {
  /** Aborted when a client stops the task or the service shuts down. */
  signal: AbortSignal;
  progress(report: ProgressReport): void;
  log(line: string): void;
  /** Rejects (insufficient_space) when `bytes` more would not fit where the task saves; ask once the size is known. */
  ensureSpace?(bytes: number): Promise<void>;
}

export interface DownloadOutput {
  /** Absolute path of the complete file, inside job.workDir; the scheduler moves it into place. */
  path: string;
  /** Extension of the final file without the dot, e.g. "mp4". */
  extension: string;
  /** A better name than the derived one (page or media title), used when job.nameIsDerived. */
  title?: string;
  /** True when the media had not ended: a live recording cut short by a stop. */
  partial?: boolean;
  /** WebVTT subtitle files inside job.workDir, one per language; the scheduler saves each as "<name>.<language>.vtt" beside the file. */
  subtitles?: SubtitleFile[];
}

export interface SubtitleFile {
  path: string;
  /** The track's language tag as the source gave it (canonical BCP-47), or "und" when it gave none. */
  language: string;
}

/** What a segmented session (HLS, DASH) is given to fetch and merge with: the shared HTTP client, ffmpeg, the limits. */
export interface SegmentSessionDependencies {
  http: HttpClient;
  ffmpeg: string | null;
  config: Pick<AppConfig, 'segmentConcurrency' | 'retryAttempts' | 'retryBaseDelayMs' | 'stallTimeoutMs'>;
}
