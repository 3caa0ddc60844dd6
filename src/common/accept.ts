/** One media range of an Accept header: `type/subtype` (either may be `*`), its weight and where it stood. */
interface MediaRange {
  type: string;
  subtype: string;
  q: number;
  index: number;
}

/** The media ranges of an Accept header; entries that are not `type/subtype` or carry a bad q are skipped. */
export function parseAccept(header: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  // commas inside quoted parameter values do not separate entries
  const entries = header.match(/(?:[^,"]|"(?:[^"\\]|\\.)*")+/g) ?? [];
  entries.forEach((entry, index) => {
    const [mediaType, ...parameters] = entry.split(';').map((part) => part.trim());
    const match = /^([\w!#$%&'*+.^`|~-]+)\/([\w!#$%&'*+.^`|~-]+)$/.exec(mediaType);
    if (!match) return;
    let q = 1;
    for (const parameter of parameters) {
      const [name, value] = parameter.split('=').map((part) => part.trim());
      if (name.toLowerCase() !== 'q') continue;
      if (!/^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(value ?? '')) return;
      q = Number(value);
    }
    ranges.push({ type: match[1].toLowerCase(), subtype: match[2].toLowerCase(), q, index });
  });
  return ranges;
}

/**
 * Picks which of `offered` (e.g. ['text/plain', 'application/json'], the first one the default) the
 * client ranks highest: by q, then by how specifically the client named it (exact over `type/*` over
 * `*\/*`), then by the order of the client's list, then by the order of `offered`. With no Accept
 * header, or none acceptable, the default.
 */
export function preferredMediaType<T extends string>(header: string | undefined, offered: readonly [T, ...T[]]): T {
  if (!header || header.trim() === '') return offered[0];
  const ranges = parseAccept(header);
  let best: { type: T; q: number; specificity: number; index: number; order: number } | null = null;
  offered.forEach((candidate, order) => {
    const [type, subtype] = candidate.toLowerCase().split('/');
    let match: MediaRange | null = null;
    let specificity = -1;
    for (const range of ranges) {
      const rangeSpecificity = range.type === type && range.subtype === subtype ? 2 : range.type === type && range.subtype === '*' ? 1 : range.type === '*' && range.subtype === '*' ? 0 : -1;
      if (rangeSpecificity > specificity) {
        match = range;
        specificity = rangeSpecificity;
      }
    }
    if (!match || match.q === 0) return;
    const found = { type: candidate, q: match.q, specificity, index: match.index, order };
    if (!best || found.q > best.q || (found.q === best.q && (found.specificity > best.specificity || (found.specificity === best.specificity && found.index < best.index)))) {
      best = found;
    }
  });
  return (best as { type: T } | null)?.type ?? offered[0];
}
