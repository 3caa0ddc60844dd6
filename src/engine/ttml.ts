import { DOMParser } from '@xmldom/xmldom';
import { boxes } from './mp4-boxes.js';
import { formatTimestamp } from './webvtt.js';

/**
 * TTML subtitles (W3C TTML1/TTML2, IMSC, EBU-TT-D, SMPTE-TT) as WebVTT: what DASH streams carry as a sidecar
 * file or as `stpp` samples in MP4 segments. Text, line breaks and timing are kept; styling and regions are
 * dropped (a WebVTT file beside the video is read by players that would ignore them anyway).
 * Written here because no maintained package converts TTML to WebVTT without a browser; the XML itself is parsed
 * by @xmldom/xmldom.
 */

const TT_NS = 'http://www.w3.org/ns/ttml';
const PARAMETER_NS = 'http://www.w3.org/ns/ttml#parameter';

interface TimingParameters {
  frameRate: number;
  subFrameRate: number;
  tickRate: number;
}

interface Cue {
  start: number;
  end: number;
  text: string;
}

/** Minimal element shape read from xmldom's DOM. */
interface XmlNode {
  nodeType: number;
  nodeValue: string | null;
  localName?: string | null;
  namespaceURI?: string | null;
  childNodes: ArrayLike<XmlNode>;
  getAttribute?(name: string): string | null;
  getAttributeNS?(namespace: string, name: string): string | null;
}

const ELEMENT = 1;
const TEXT = 3;
const CDATA = 4;

/** Whether a text looks like a TTML document (an XML root element `tt`). */
export function looksLikeTtml(text: string): boolean {
  return /<(?:[\w-]+:)?tt[\s>]/.test(text.slice(0, 4096));
}

/** One TTML document as WebVTT cues (without the WEBVTT header), in document order; times as the document gives them. */
export function ttmlCues(document: string): Cue[] {
  const problems: string[] = [];
  const parsed = new DOMParser({ errorHandler: { warning: () => undefined, error: (message) => void problems.push(message), fatalError: (message) => void problems.push(message) } }).parseFromString(document, 'text/xml');
  const root = parsed.documentElement as unknown as XmlNode | null;
  if (!root || root.localName !== 'tt') throw new Error(`not a TTML document${problems.length ? ` (${problems[0]})` : ''}`);
  const parameters = timingParameters(root);
  const cues: Cue[] = [];
  const body = children(root).find((node) => node.localName === 'body');
  if (body) collect(body, 0, Number.POSITIVE_INFINITY, parameters, cues);
  return cues;
}

/** One TTML document as a WebVTT document. */
export function ttmlToWebVtt(document: string): string {
  const blocks = ttmlCues(document)
    .filter((cue) => cue.text.trim() !== '' && Number.isFinite(cue.end) && cue.end > cue.start)
    .map((cue) => `${formatTimestamp(cue.start)} --> ${formatTimestamp(cue.end)}\n${cue.text}\n`);
  return ['WEBVTT', '', ...blocks].join('\n');
}

/**
 * The TTML documents an MP4 file or fragment carries as `stpp` samples: the contents of its `mdat` boxes, split
 * where a new document starts (a fragment may hold several samples). Box sizes are checked against the buffer.
 */
export function ttmlDocumentsInMp4(data: Buffer): string[] {
  const documents: string[] = [];
  for (const box of boxes(data, 0, data.length)) {
    if (box.type !== 'mdat') continue;
    const text = data.toString('utf8', box.body, box.end);
    for (const part of text.split(/(?=<\?xml)/)) if (looksLikeTtml(part)) documents.push(part);
  }
  return documents;
}

function collect(node: XmlNode, parentBegin: number, parentEnd: number, parameters: TimingParameters, cues: Cue[]): void {
  const { begin, end } = interval(node, parentBegin, parentEnd, parameters);
  if (node.localName === 'p') {
    cues.push({ start: begin, end, text: paragraphText(node) });
    return;
  }
  for (const child of children(node)) if (child.nodeType === ELEMENT && (child.localName === 'div' || child.localName === 'p')) collect(child, begin, end, parameters, cues);
}

/** An element's active interval on the document's timeline: begin and end are offsets from its parent's begin (TTML's default par timing). */
function interval(node: XmlNode, parentBegin: number, parentEnd: number, parameters: TimingParameters): { begin: number; end: number } {
  const beginText = attribute(node, 'begin');
  const endText = attribute(node, 'end');
  const durText = attribute(node, 'dur');
  const begin = parentBegin + (beginText ? timeExpression(beginText, parameters) : 0);
  let end = parentEnd;
  if (endText) end = Math.min(parentEnd, parentBegin + timeExpression(endText, parameters));
  if (durText) end = Math.min(end, begin + timeExpression(durText, parameters));
  return { begin, end };
}

/** The text of a paragraph: spans flattened, `br` as a line break, whitespace collapsed as XML's default space handling does. */
function paragraphText(paragraph: XmlNode): string {
  let text = '';
  const walk = (node: XmlNode) => {
    for (const child of children(node)) {
      if (child.nodeType === TEXT || child.nodeType === CDATA) text += (child.nodeValue ?? '').replace(/\s+/g, ' ');
      else if (child.nodeType === ELEMENT && child.localName === 'br') text += '\n';
      else if (child.nodeType === ELEMENT && child.localName === 'span') walk(child);
    }
  };
  walk(paragraph);
  // WebVTT cue text: &, < and > are markup (escaping > also keeps a "-->" from reading as timing); an empty line would end the cue
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => line.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;'))
    .join('\n');
}

/** A TTML time expression in seconds: clock time (hh:mm:ss.fff, hh:mm:ss:ff) or offset time (12.5s, 300ms, 25f, 9000t, 1.5h, 2m). */
export function timeExpression(value: string, parameters: TimingParameters = { frameRate: 30, subFrameRate: 1, tickRate: 1 }): number {
  const text = value.trim();
  const clockTime = /^(\d{2,}):(\d{2}):(\d{2}(?:\.\d+)?)(?::(\d{2,})(?:\.(\d+))?)?$/.exec(text);
  if (clockTime) {
    const [, hours, minutes, seconds, frames, subFrames] = clockTime;
    let total = Number(hours) * 3600 + Number(minutes) * 60 + Number(seconds);
    if (frames) total += (Number(frames) + (subFrames ? Number(subFrames) / parameters.subFrameRate : 0)) / parameters.frameRate;
    return total;
  }
  const offset = /^(\d+(?:\.\d+)?)(h|ms|m|s|f|t)$/.exec(text);
  if (offset) {
    const amount = Number(offset[1]);
    switch (offset[2]) {
      case 'h':
        return amount * 3600;
      case 'm':
        return amount * 60;
      case 's':
        return amount;
      case 'ms':
        return amount / 1000;
      case 'f':
        return amount / parameters.frameRate;
      default:
        return amount / parameters.tickRate;
    }
  }
  throw new Error(`"${value}" is not a TTML time expression`);
}

function timingParameters(root: XmlNode): TimingParameters {
  const read = (name: string) => root.getAttributeNS?.(PARAMETER_NS, name) || null;
  const frameRate = positive(read('frameRate')) ?? 30;
  const [numerator, denominator] = (read('frameRateMultiplier') ?? '1 1').trim().split(/\s+/).map(Number);
  const effectiveFrameRate = numerator > 0 && denominator > 0 ? (frameRate * numerator) / denominator : frameRate;
  const subFrameRate = positive(read('subFrameRate')) ?? 1;
  // TTML: without a tickRate, ticks count frames × sub-frames when a frame rate is given, else seconds
  const tickRate = positive(read('tickRate')) ?? (read('frameRate') ? effectiveFrameRate * subFrameRate : 1);
  return { frameRate: effectiveFrameRate, subFrameRate, tickRate };
}

function positive(value: string | null): number | null {
  const number = value === null ? NaN : Number(value);
  return Number.isFinite(number) && number > 0 ? number : null;
}

function attribute(node: XmlNode, name: string): string | null {
  return node.getAttribute?.(name) || null;
}

function children(node: XmlNode): XmlNode[] {
  return Array.from(node.childNodes).filter((child) => child.nodeType !== ELEMENT || !child.namespaceURI || child.namespaceURI === TT_NS);
}
