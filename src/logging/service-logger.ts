import { type Logger, pino } from 'pino';

export type LogFormat = 'json' | 'pretty';

/** Field paths whose values are credentials; pino replaces them wherever a line carries them. */
const REDACTED_PATHS = [
  'authorization',
  'cookie',
  'apiKey',
  'token',
  'headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
];

/**
 * The process's one logger: JSON lines (for Loki, Elasticsearch, journald) unless asked for pretty lines, which
 * are the default on a terminal. Tests pass level "silent".
 */
export function createServiceLogger(options: { level: string; format: LogFormat }): Logger {
  return pino({
    level: options.level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    ...(options.format === 'pretty'
      ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,context', messageFormat: '{if context}[{context}] {end}{msg}' } } }
      : {}),
  });
}
