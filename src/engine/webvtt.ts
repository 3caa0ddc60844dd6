/** The MPEG-2 TS clock: 90 kHz, 33 bits. */
const CLOCK = 90_000;
const WRAP = 2 ** 33;

export interface MergeWebVttOptions {
  /**
   * Where the saved media begins on the stream's 90 kHz clock, in seconds (the first PTS of its first segment).
   * Cues of segments with an X-TIMESTAMP-MAP are placed on that clock and counted from here; null: from the
   * first mapped segment's own MPEGTS value, as if it began the stream.
   */
  streamStart?: number | null;
}

/**
 * Joins WebVTT segments into one document: one header, every cue once (a cue spanning a segment boundary is
 * repeated by packagers in both segments). A segment's X-TIMESTAMP-MAP (RFC 8216 §3.5) moves its cues from its
 * LOCAL time to the MPEGTS time, counted from the start of the saved media; without one, cue times are kept as written.
 */
export function mergeWebVtt(segments: string[], options: MergeWebVttOptions = {}): string {
  const seen = new Set<string>();
  const cues: string[] = [];
  let origin: number | null = options.streamStart ?? null;
  for (const text of segments) {
    const map = timestampMap(text);
    let shift = 0;
    if (map) {
      origin ??= map.mpegts / CLOCK;
      shift = wrappedSeconds(map.mpegts, origin) - map.local;
    }
    for (const block of cueBlocks(text)) {
      const moved = shift === 0 ? block : shiftCue(block, shift);
      if (moved === null) continue;
      const identity = moved.replace(/^[^\n]*\n(?=[^\n]*-->)/, '');
      if (seen.has(identity)) continue;
      seen.add(identity);
      cues.push(moved);
    }
  }
  return ['WEBVTT', '', ...cues.map((cue) => `${cue}\n`)].join('\n');
}

/** The cue blocks of one WebVTT document (header, NOTE, STYLE and REGION blocks dropped). */
export function cueBlocks(text: string): string[] {
  const blocks = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n').split(/\n{2,}/);
  return blocks.map((block) => block.trim()).filter((block) => block.includes('-->') && !/^(WEBVTT|NOTE|STYLE|REGION)\b/.test(block));
}

/** The X-TIMESTAMP-MAP of a WebVTT segment's header: MPEGTS in 90 kHz ticks, LOCAL in seconds. */
export function timestampMap(text: string): { mpegts: number; local: number } | null {
  const header = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n').split(/\n\n/)[0];
  const line = /^X-TIMESTAMP-MAP=(.*)$/m.exec(header)?.[1];
  if (!line) return null;
  const mpegts = /MPEGTS:(\d+)/.exec(line)?.[1];
  const local = /LOCAL:([\d:.]+)/.exec(line)?.[1];
  const localSeconds = local ? parseTimestamp(local) : 0;
  if (mpegts === undefined || localSeconds === null) return null;
  return { mpegts: Number(mpegts), local: localSeconds };
}

/** Seconds from `origin` to the clock value `ticks`, across a 33-bit wrap of the 90 kHz clock. */
function wrappedSeconds(ticks: number, origin: number): number {
  let delta = (ticks - Math.round(origin * CLOCK)) % WRAP;
  if (delta >= WRAP / 2) delta -= WRAP;
  if (delta < -WRAP / 2) delta += WRAP;
  return delta / CLOCK;
}

/** "hh:mm:ss.ttt" or "mm:ss.ttt" in seconds; null when it is neither. */
export function parseTimestamp(text: string): number | null {
  const match = /^(?:(\d+):)?(\d{1,2}):(\d{1,2})(?:\.(\d{1,3}))?$/.exec(text.trim());
  if (!match) return null;
  const [, hours, minutes, seconds, fraction] = match;
  return Number(hours ?? 0) * 3600 + Number(minutes) * 60 + Number(seconds) + Number((fraction ?? '0').padEnd(3, '0')) / 1000;
}

export function formatTimestamp(seconds: number): string {
  const millis = Math.max(0, Math.round(seconds * 1000));
  const hours = Math.floor(millis / 3_600_000);
  const minutes = Math.floor((millis % 3_600_000) / 60_000);
  const rest = (millis % 60_000) / 1000;
  return `${String(hours).padStart(2, '0')}:${String(minutes).padStart(2, '0')}:${rest.toFixed(3).padStart(6, '0')}`;
}

/** A cue block with its timing moved by `shift` seconds; null when it ends before the media begins. */
function shiftCue(block: string, shift: number): string | null {
  const lines = block.split('\n');
  const index = lines.findIndex((line) => line.includes('-->'));
  const match = /^\s*([\d:.]+)\s+-->\s+([\d:.]+)(.*)$/.exec(lines[index]);
  if (!match) return block;
  const start = parseTimestamp(match[1]);
  const end = parseTimestamp(match[2]);
  if (start === null || end === null) return block;
  if (end + shift <= 0) return null;
  lines[index] = `${formatTimestamp(start + shift)} --> ${formatTimestamp(end + shift)}${match[3]}`;
  return lines.join('\n');
}
