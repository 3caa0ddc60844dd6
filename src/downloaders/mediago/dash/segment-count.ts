import type { MpdNode } from 'mpd-parser';

/**
 * Segments a manifest may list over all its representations; mpd-parser expands each into an object on
 * the main thread: 50,000 take about 0.7 s and 70 MiB there (measured), and two such tasks took the service to
 * 300 MiB; 30,000 segments are 16 hours of 2-second segments.
 */
export const MAX_DASH_SEGMENTS = 30_000;

/**
 * How many segments mpd-parser would expand for a static MPD, counted from the attributes alone
 * (SegmentTimeline S@r, SegmentTemplate@duration over the period, SegmentURL elements), so that a
 * 600-byte manifest announcing ten million segments is refused before anything is allocated.
 * Infinity when a count has no bound (a zero duration repeated to the end).
 */
export function countMpdSegments(mpd: MpdNode): number {
  const presentation = parseIsoDuration(mpd.getAttribute('mediaPresentationDuration'));
  const periods = childElements(mpd, 'Period');
  let total = 0;
  let previousEnd = 0;
  periods.forEach((period, index) => {
    const start = parseIsoDuration(period.getAttribute('start')) ?? previousEnd;
    const nextStart = index + 1 < periods.length ? parseIsoDuration(periods[index + 1].getAttribute('start')) : null;
    const length = parseIsoDuration(period.getAttribute('duration')) ?? (nextStart ?? presentation ?? Number.NaN) - start;
    previousEnd = start + (Number.isFinite(length) ? length : 0);
    for (const set of childElements(period, 'AdaptationSet')) {
      const representations = childElements(set, 'Representation');
      for (const representation of representations.length > 0 ? representations : [set]) {
        const known = Number.isFinite(length) && length > 0 ? length : null;
        // mpd-parser repeats an open-ended S (r="-1") up to the presentation's end: count as far as the longer of the two
        const horizon = Math.max(known ?? 0, presentation ?? 0) || null;
        total += countRepresentation([representation, set, period], known, horizon);
        if (!Number.isFinite(total)) return;
      }
    }
  });
  return total;
}

/** One representation's segments; `levels` runs from the Representation up to its Period. */
function countRepresentation(levels: MpdNode[], periodSeconds: number | null, horizonSeconds: number | null): number {
  const list = nearest(levels, 'SegmentList');
  if (list) return Math.max(childElements(list, 'SegmentURL').length, countTimeline(firstChild(list, 'SegmentTimeline'), levels, horizonSeconds));
  const templates = levels.map((level) => firstChild(level, 'SegmentTemplate')).filter(isNode);
  if (templates.length === 0) return 1;
  const timeline = nearest(templates, 'SegmentTimeline');
  if (timeline) return countTimeline(timeline, levels, horizonSeconds);
  const duration = inherited(templates, 'duration');
  if (duration === null || periodSeconds === null) return 1;
  if (duration <= 0) return Infinity;
  return Math.ceil((periodSeconds * (inherited(templates, 'timescale') ?? 1)) / duration);
}

function countTimeline(timeline: MpdNode | null, levels: MpdNode[], horizonSeconds: number | null): number {
  if (!timeline) return 0;
  const holders = levels.flatMap((level) => [firstChild(level, 'SegmentTemplate'), firstChild(level, 'SegmentList')]).filter(isNode);
  const timescale = inherited(holders, 'timescale') ?? 1;
  const entries = childElements(timeline, 'S');
  let count = 0;
  let time = 0;
  entries.forEach((entry, index) => {
    time = numberAttribute(entry, 't') ?? time;
    const duration = numberAttribute(entry, 'd') ?? 0;
    let repeat = numberAttribute(entry, 'r') ?? 0;
    if (repeat < 0) {
      // r="-1": repeat until the next S@t, or the end
      const nextTime = index + 1 < entries.length ? numberAttribute(entries[index + 1], 't') : null;
      const end = nextTime ?? (horizonSeconds !== null ? horizonSeconds * timescale : null);
      repeat = end === null ? 0 : duration > 0 ? Math.max(0, Math.ceil((end - time) / duration) - 1) : Infinity;
    }
    count += repeat + 1;
    time += duration * (repeat + 1);
  });
  return count;
}

/** The value of a numeric attribute at the closest level that has it. */
function inherited(nodes: MpdNode[], name: string): number | null {
  for (const node of nodes) {
    const value = numberAttribute(node, name);
    if (value !== null) return value;
  }
  return null;
}

function nearest(levels: MpdNode[], name: string): MpdNode | null {
  for (const level of levels) {
    const found = firstChild(level, name);
    if (found) return found;
  }
  return null;
}

function numberAttribute(node: MpdNode, name: string): number | null {
  const raw = node.getAttribute(name);
  if (raw === null || raw.trim() === '') return null;
  const value = Number(raw);
  return Number.isNaN(value) ? null : value;
}

/** Seconds of an xs:duration such as PT1H2M3.5S or P1DT2H; null when absent or unreadable. */
export function parseIsoDuration(value: string | null): number | null {
  const match = value ? /^\s*P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?\s*$/.exec(value) : null;
  if (!match) return null;
  const [years, months, days, hours, minutes, seconds] = match.slice(1).map((part) => Number(part ?? 0));
  return years * 365 * 86_400 + months * 30 * 86_400 + days * 86_400 + hours * 3_600 + minutes * 60 + seconds;
}

function childElements(node: MpdNode | null, name: string): MpdNode[] {
  if (!node) return [];
  return Array.from(node.childNodes).filter((child) => child.nodeType === 1 && child.tagName === name);
}

function firstChild(node: MpdNode | null, name: string): MpdNode | null {
  return childElements(node, name)[0] ?? null;
}

function isNode(node: MpdNode | null): node is MpdNode {
  return node !== null;
}
