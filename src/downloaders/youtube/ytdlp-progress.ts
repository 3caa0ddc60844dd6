import { redactUrlsIn } from '../../engine/http-error.js';
import type { ProgressReport } from '../../engine/download-job.js';
import { PROGRESS_MARKER } from './ytdlp-arguments.js';

/** What one line of yt-dlp's output means to us. */
export type YtdlpLine =
  | {
      kind: 'progress';
      status: 'downloading' | 'finished' | 'error';
      /** The file being written (final name, not the .part); null when the line does not say. */
      filename: string | null;
      downloadedBytes: number;
      /** Exact size, or yt-dlp's estimate for fragmented streams; null while unknown. */
      totalBytes: number | null;
      fragmentIndex: number | null;
      fragmentCount: number | null;
    }
  /** "[info] <id>: Downloading 1 format(s): 137+140": how many files make up the result. */
  | { kind: 'formats'; formats: string[] }
  | { kind: 'destination'; filename: string }
  | { kind: 'already-downloaded'; filename: string }
  /** A post-processing step: [Merger], [FixupM3u8], [ExtractAudio], … */
  | { kind: 'postprocess'; step: string; detail: string }
  /** ffmpeg's statistics while it records a live stream: bytes written so far. */
  | { kind: 'recording'; bytes: number }
  | { kind: 'error'; message: string }
  | { kind: 'warning'; message: string }
  /** Chatter not worth keeping in a task log (ffmpeg opening every live segment). */
  | { kind: 'noise' }
  | { kind: 'other'; text: string };

const POSTPROCESSORS =
  /^\[(Merger|Fixup\w+|ExtractAudio|VideoConvertor|VideoRemuxer|Embed\w+|Metadata|ModifyChapters|SplitChapters|SponsorBlock|ThumbnailsConvertor|MoveFiles|Exec)\] (.*)$/;
// eslint-disable-next-line no-control-regex -- yt-dlp colours its output when it thinks it may
const ANSI_COLOURS = /\x1b\[[0-9;]*m/g;

/** yt-dlp prints binary units. */
const YTDLP_UNITS: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };
/** ffmpeg's statistics say "kB" but count in 1024s. */
const FFMPEG_UNITS: Record<string, number> = { B: 1, kB: 1024, KiB: 1024, MB: 1024 ** 2, MiB: 1024 ** 2, GB: 1024 ** 3, GiB: 1024 ** 3 };

/** Classifies one line of yt-dlp's output (stdout or stderr; ANSI colours are ignored). */
export function parseYtdlpLine(raw: string): YtdlpLine {
  const line = raw.replace(ANSI_COLOURS, '').trim();
  if (line.startsWith(PROGRESS_MARKER)) return parseTemplateLine(line.slice(PROGRESS_MARKER.length)) ?? { kind: 'other', text: line };
  if (line.startsWith('ERROR:')) return { kind: 'error', message: cleanErrorMessage(line) };
  if (line.startsWith('WARNING:')) return { kind: 'warning', message: line };

  let match = /^\[info\] [^:]+: Downloading \d+ format\(s\): (\S+)/.exec(line);
  if (match) return { kind: 'formats', formats: match[1].split('+') };
  match = /^\[download\] Destination: (.+)$/.exec(line);
  if (match) return { kind: 'destination', filename: match[1] };
  match = /^\[download\] (.+) has already been downloaded(?: and merged)?$/.exec(line);
  if (match) return { kind: 'already-downloaded', filename: match[1] };
  if (line.startsWith('[download]')) {
    const progress = parseDefaultProgress(line);
    if (progress) return progress;
  }
  match = POSTPROCESSORS.exec(line);
  if (match) return { kind: 'postprocess', step: match[1], detail: match[2] };
  // ffmpeg's own statistics ("frame=  250 fps= 31 ... size=     254kB time=..."); "Lsize" is the last one
  match = /^(?:frame=.*?\s)?L?size=\s*(\d+(?:\.\d+)?)\s*(B|kB|KiB|MB|MiB|GB|GiB)\b/.exec(line);
  if (match) return { kind: 'recording', bytes: Math.round(Number(match[1]) * FFMPEG_UNITS[match[2]]) };
  if (/^\[(?:https?|tcp|tls|hls|dash|AVFormatContext) @ 0x[0-9a-f]+\] (?:Opening|Skip)/.test(line)) return { kind: 'noise' };
  return { kind: 'other', text: line };
}

function parseTemplateLine(json: string): YtdlpLine | null {
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return null;
  }
  const status = data.status === 'finished' || data.status === 'error' ? data.status : 'downloading';
  const downloaded = numberOrNull(data.downloaded_bytes) ?? 0;
  const total = numberOrNull(data.total_bytes) ?? numberOrNull(data.total_bytes_estimate);
  return {
    kind: 'progress',
    status,
    filename: typeof data.filename === 'string' ? data.filename : null,
    downloadedBytes: Math.round(downloaded),
    // an estimate of 0 (a live playlist's first fragment) means "unknown"
    totalBytes: total && total > 0 ? Math.round(total) : null,
    fragmentIndex: numberOrNull(data.fragment_index),
    fragmentCount: numberOrNull(data.fragment_count),
  };
}

/**
 * yt-dlp's default progress lines, for output that did not go through our template:
 * "[download]  45.0% of ~  10.00MiB at  1.00MiB/s ETA 00:05 (frag 3/10)", "[download] 100% of 98.67KiB in 00:00:01 at 88KiB/s".
 */
function parseDefaultProgress(line: string): YtdlpLine | null {
  const match = /^\[download\]\s+(\d+(?:\.\d+)?)% of\s+(~)?\s*(\d+(?:\.\d+)?)(B|KiB|MiB|GiB|TiB)\b(.*)$/.exec(line);
  if (!match) return null;
  const percent = Number(match[1]);
  const total = Math.round(Number(match[3]) * YTDLP_UNITS[match[4]]);
  const fragments = /\(frag (\d+)\/(\d+)\)/.exec(match[5]);
  return {
    kind: 'progress',
    status: / in \d/.test(match[5]) ? 'finished' : 'downloading',
    filename: null,
    downloadedBytes: Math.round((total * percent) / 100),
    totalBytes: total,
    fragmentIndex: fragments ? Number(fragments[1]) : null,
    fragmentCount: fragments ? Number(fragments[2]) : null,
  };
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/**
 * yt-dlp's error line without the boilerplate it adds for its own bug tracker, and without the query
 * strings of the URLs it names (they often carry tokens).
 */
export function cleanErrorMessage(line: string): string {
  return redactUrlsIn(line)
    .replace(ANSI_COLOURS, '')
    .replace(/;?\s*please report this issue on\b.*$/i, '')
    .replace(/\s*\(caused by <[^>]*>\)/g, '')
    .replace(/[\s;]+$/, '')
    .trim();
}

/** ERROR lines that say that something failed but not what: the line before them says it. */
const VAGUE_ERRORS = /^(?:Postprocessing: )?Conversion failed!?$|ffmpeg exited with code \d+|unable to continue$|^unable to download video data|^Did not get any data blocks$|^\S+: ERROR$/i;
/** A line that reads like a cause: yt-dlp's "Got error", a warning, an HTTP or OS error. */
const CAUSE_LIKE = /error|failed|unable|denied|forbidden|not found|refused|timed out|no space|invalid|\[Errno \d+\]/i;

/**
 * The error to report from an ERROR line and the meaningful line printed just before it: a bare
 * "ERROR:" takes that line as its message; a vague one ("Conversion failed!") gets it as the cause.
 */
export function errorWithCause(message: string, previous: string | null): string {
  const body = message.replace(/^ERROR:\s*/, '').trim();
  const cause = previous ? cleanErrorMessage(previous).replace(/^(?:WARNING:|\[[\w:]+\])\s*/, '').replace(/^Got error:\s*/i, '').trim() : '';
  if (!body) return cause ? `ERROR: ${cause}` : message;
  if (cause && VAGUE_ERRORS.test(body) && CAUSE_LIKE.test(cause) && !body.includes(cause)) return `${message} (${cause.replace(/[.\s]+$/, '')})`;
  return message;
}

/** Of several ERROR lines, the last that says something: yt-dlp may end with a bare "ERROR:". */
export function meaningfulError(errors: string[]): string | undefined {
  return [...errors].reverse().find((error) => error.replace(/^ERROR:\s*/, '').trim()) ?? errors.at(-1);
}

interface FileProgress {
  downloadedBytes: number;
  totalBytes: number | null;
  fragmentIndex: number | null;
  fragmentCount: number | null;
  finished: boolean;
}

/**
 * Turns yt-dlp's lines into progress for the whole task. A result merged from a video and an audio
 * file is downloaded as two files one after the other, each counting from zero: this adds them up.
 */
export class YtdlpProgressTracker {
  private formatCount = 1;
  private readonly files = new Map<string, FileProgress>();
  private currentFile = '';
  private recordedBytes = 0;

  /** baseName: the output name without extension, to tell the merged result from its parts. */
  constructor(private readonly baseName: string) {}

  /** Feeds one parsed line; returns a new report when the line changed the progress. */
  update(line: YtdlpLine): ProgressReport | null {
    switch (line.kind) {
      case 'formats':
        this.formatCount = Math.max(1, line.formats.length);
        return null;
      case 'destination':
        this.currentFile = line.filename;
        return null;
      case 'progress': {
        const key = line.filename ?? this.currentFile;
        this.currentFile = key;
        const downloaded = line.downloadedBytes;
        this.files.set(key, {
          downloadedBytes: downloaded,
          totalBytes: line.status === 'finished' ? downloaded : line.totalBytes === null ? null : Math.max(line.totalBytes, downloaded),
          fragmentIndex: line.fragmentIndex,
          fragmentCount: line.fragmentCount,
          finished: line.status === 'finished',
        });
        return this.report();
      }
      case 'already-downloaded': {
        if (this.isMergedResult(line.filename)) {
          // the whole result is on disk: every part counts as done
          this.formatCount = 1;
          this.files.clear();
        }
        this.files.set(line.filename, { downloadedBytes: 0, totalBytes: null, fragmentIndex: null, fragmentCount: null, finished: true });
        return this.report();
      }
      case 'recording':
        this.recordedBytes = line.bytes;
        return this.report();
      default:
        return null;
    }
  }

  private isMergedResult(filename: string): boolean {
    const name = filename.split(/[\\/]/).pop() ?? filename;
    return name.startsWith(`${this.baseName}.`) && !/^\.f[^.]+\.[^.]+$/.test(name.slice(this.baseName.length));
  }

  private report(): ProgressReport {
    const entries = [...this.files.values()];
    const downloadedBytes = entries.reduce((sum, file) => sum + file.downloadedBytes, 0) + this.recordedBytes;
    if (this.recordedBytes > 0) return { downloadedBytes, totalBytes: null, percent: null };
    const parts = Math.max(this.formatCount, entries.length);
    const sizesKnown = entries.length >= parts && entries.every((file) => file.totalBytes !== null);
    if (sizesKnown) {
      const totalBytes = entries.reduce((sum, file) => sum + (file.totalBytes ?? 0), 0);
      if (totalBytes > 0) return { downloadedBytes, totalBytes, percent: Math.min(100, (downloadedBytes / totalBytes) * 100) };
    }
    // some sizes are unknown: each part weighs the same, measured by bytes or by fragments
    const done = entries.reduce((sum, file) => sum + fractionDone(file), 0);
    const anyMeasure = entries.some((file) => file.finished || file.totalBytes !== null || file.fragmentCount);
    return { downloadedBytes, totalBytes: null, percent: anyMeasure ? Math.min(100, (done / parts) * 100) : null };
  }
}

function fractionDone(file: FileProgress): number {
  if (file.finished) return 1;
  if (file.totalBytes) return Math.min(1, file.downloadedBytes / file.totalBytes);
  if (file.fragmentCount) return Math.min(1, (file.fragmentIndex ?? 0) / file.fragmentCount);
  return 0;
}
