/** Thrown for header input that cannot be sent; the message names the line and the problem. */
export class HeaderLinesError extends Error {}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Reads a task's headers in any accepted form (lines, a JSON array of lines, a JSON object,
 * or either of those as a JSON string) into name/value pairs.
 */
export function parseHeaderLines(input: unknown): Array<[string, string]> {
  if (input === null || input === undefined) return [];
  if (Array.isArray(input)) return input.flatMap((line, index) => parseLineItem(line, index));
  if (typeof input === 'object') return Object.entries(input as Record<string, unknown>).map(([name, value]) => checkPair(name, value, name));
  if (typeof input !== 'string') throw new HeaderLinesError('must be a string of "Name: value" lines, an array of such lines, or an object');
  const trimmed = input.trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      parsed = undefined;
    }
    if (parsed !== undefined && typeof parsed === 'object') return parseHeaderLines(parsed);
  }
  return input
    .split(/\r?\n/)
    .map((line, index) => ({ line, index }))
    .filter(({ line }) => line.trim() !== '')
    .map(({ line, index }) => parseLine(line, index));
}

function parseLineItem(line: unknown, index: number): Array<[string, string]> {
  if (typeof line !== 'string') throw new HeaderLinesError(`item ${index + 1} must be a "Name: value" string`);
  if (/[\r\n]/.test(line)) throw new HeaderLinesError(`item ${index + 1} contains a line break`);
  return line.trim() === '' ? [] : [parseLine(line, index)];
}

function parseLine(line: string, index: number): [string, string] {
  if (/\r/.test(line)) throw new HeaderLinesError(`line ${index + 1} contains a carriage return`);
  const colon = line.indexOf(':');
  if (colon <= 0) throw new HeaderLinesError(`line ${index + 1} ("${line.slice(0, 40)}") is not of the form "Name: value"`);
  return checkPair(line.slice(0, colon), line.slice(colon + 1), `line ${index + 1}`);
}

function checkPair(rawName: string, rawValue: unknown, where: string): [string, string] {
  const name = rawName.trim();
  if (!TOKEN.test(name)) throw new HeaderLinesError(`${where} has an invalid header name "${name.slice(0, 40)}"`);
  if (typeof rawValue !== 'string' && typeof rawValue !== 'number') throw new HeaderLinesError(`${where}: the value of "${name}" must be a string`);
  const value = String(rawValue).trim();
  // eslint-disable-next-line no-control-regex
  if (/[\r\n\u0000]/.test(value)) throw new HeaderLinesError(`${where}: the value of "${name}" contains a line break or NUL`);
  const unsendable = UNSENDABLE.exec(value);
  if (unsendable) {
    const code = `U+${unsendable[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    const what = unsendable[0].codePointAt(0)! > 0xff ? 'a character HTTP headers cannot carry (only Latin-1 is sent)' : 'a control character';
    throw new HeaderLinesError(`${where}: the value of "${name}" contains ${what} (${code}); percent-encode it or remove it`);
  }
  return [name, value];
}

/** What no HTTP/1.1 header value can carry: control characters other than TAB (DEL included) and anything above U+00FF. */
// eslint-disable-next-line no-control-regex
const UNSENDABLE = /[\u0000-\u0008\u000a-\u001f\u007f]|[^\u0000-\u00ff]/u;

/**
 * Headers that belong to one connection or describe the message's framing. Sent from a task they would
 * desynchronise a shared keep-alive connection (a Content-Length makes the server read the next
 * request as this one's body), so they are never forwarded.
 */
const HOP_BY_HOP = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer', 'expect']);

export function isHopByHopHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return HOP_BY_HOP.has(lower) || lower.startsWith('proxy-');
}

/** A task's headers split into those it sends and the names of those it may not (hop-by-hop, framing). */
export function forwardableHeaders(pairs: Array<[string, string]>): { forwarded: Array<[string, string]>; dropped: string[] } {
  const forwarded = pairs.filter(([name]) => !isHopByHopHeader(name));
  const dropped = pairs.filter(([name]) => isHopByHopHeader(name)).map(([name]) => name);
  return { forwarded, dropped };
}

/** The stored form: one "Name: value" per line. */
export function formatHeaderLines(pairs: Array<[string, string]>): string {
  return pairs.map(([name, value]) => `${name}: ${value}`).join('\n');
}
