/**
 * Joins WebVTT segments into one document: one header, every cue once (a cue spanning a segment
 * boundary is repeated by packagers in both segments). Cue times are kept as written.
 */
export function mergeWebVtt(segments: string[]): string {
  const seen = new Set<string>();
  const cues: string[] = [];
  for (const text of segments) {
    for (const block of cueBlocks(text)) {
      const identity = block.replace(/^[^\n]*\n(?=[^\n]*-->)/, '');
      if (seen.has(identity)) continue;
      seen.add(identity);
      cues.push(block);
    }
  }
  return ['WEBVTT', '', ...cues.map((cue) => `${cue}\n`)].join('\n');
}

/** The cue blocks of one WebVTT document (header, NOTE, STYLE and REGION blocks dropped). */
export function cueBlocks(text: string): string[] {
  const blocks = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n').split(/\n{2,}/);
  return blocks.map((block) => block.trim()).filter((block) => block.includes('-->') && !/^(WEBVTT|NOTE|STYLE|REGION)\b/.test(block));
}
