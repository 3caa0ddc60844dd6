/** Header names whose values are credentials: never shown in webhook payloads or service logs. */
const SECRET_HEADERS = /^(cookie|authorization|proxy-authorization|x-api-key)$/i;

/** A task's header lines with credential values replaced, names kept (so a reader sees that one was sent). */
export function redactHeaderLines(lines: string): string {
  return lines
    .split('\n')
    .map((line) => {
      const colon = line.indexOf(':');
      return colon > 0 && SECRET_HEADERS.test(line.slice(0, colon).trim()) ? `${line.slice(0, colon)}: [redacted]` : line;
    })
    .join('\n');
}
