import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { type MediaQuality, parseLanguages, parseQuality } from './media-choice.js';

/** Everything the service reads from its environment, validated once at boot. */
export interface AppConfig {
  port: number;
  host: string;
  dataDir: string;
  downloadDir: string;
  apiKey: string | null;
  maxConcurrentDownloads: number;
  ffmpegPath: string | null;
  ytdlpPath: string | null;
  proxy: string | null;
  noProxy: string | null;
  directConnections: number;
  segmentConcurrency: number;
  retryAttempts: number;
  retryBaseDelayMs: number;
  stallTimeoutMs: number;
  /** A response head (status and headers) must be complete within this long. */
  headTimeoutMs: number;
  /** A small document (playlist, key, manifest) must arrive whole within this long. */
  documentTimeoutMs: number;
  /** POST /api/downloads/resolve, and the expansion of one create request, answer within this long. */
  resolveTimeoutMs: number;
  progressIntervalMs: number;
  bodyLimitBytes: number;
  bilibiliApiBase: string;
  ssePingIntervalMs: number;
  /** GET /metrics answers without the API key */
  metricsPublic: boolean;
  /** GET /metrics also carries nodejs_gc_duration_seconds (an observer of every collection: off by default) */
  metricsGc: boolean;
  /** the built dashboard; null: web/dist beside the service */
  webDir: string | null;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** null: pretty on a terminal, JSON lines otherwise */
  logFormat: 'json' | 'pretty' | null;
  /** receivers of signed event POSTs */
  webhookUrls: string[];
  webhookSecret: string | null;
  /** SSE event names sent to webhooks */
  webhookEvents: string[];
  /** Origins a browser may call the API from (CORS); ['*'] only together with an API key. */
  corsOrigins: string[];
  /** Extra names the Host header may carry (DNS rebinding guard); null when ALLOWED_HOSTS is unset. */
  allowedHosts: string[] | null;
  /** Serve a non-loopback address without an API key anyway. */
  allowNoAuth: boolean;
  /** Let tasks reach loopback, private, link-local and unique-local addresses. */
  allowPrivateAddresses: boolean;
  /** SPEED_LIMIT in bytes per second for all downloads together; 0: none. */
  speedLimit: number;
  /** Free space kept on the download and data disks: below it queued tasks wait and known sizes that do not fit fail. */
  minFreeSpaceBytes: number;
  /** What a task downloads when it does not say (DEFAULT_QUALITY): best, a maximum height, or audio. */
  defaultQuality: MediaQuality;
  /** Preferred audio languages when a task names none (DEFAULT_AUDIO_LANGUAGE); empty: the source's default audio. */
  defaultAudioLanguage: string[];
  /** Subtitle languages saved when a task names none (DEFAULT_SUBTITLE_LANGUAGES); empty: none. */
  defaultSubtitleLanguages: string[];
  /** postgres://…: several nodes share one PostgreSQL database; null: the embedded SQLite file in DATA_DIR. */
  databaseUrl: string | null;
  /** This process's name among the nodes sharing a database: NODE_ID, else generated once and kept in DATA_DIR. */
  nodeId: string;
  /** True when nodeId was generated now: the boot writes it to DATA_DIR for the next start. */
  nodeIdIsNew: boolean;
  /** How long a node's claim on a running task lasts without a heartbeat before another node takes the task over. */
  leaseMs: number;
}

/** Lifecycle events a webhook may receive (progress is too frequent for a POST each). */
export const WEBHOOK_EVENTS = ['download-create', 'download-start', 'download-success', 'download-failed', 'download-stop', 'download-update', 'download-delete'];

export const APP_CONFIG = Symbol('APP_CONFIG');

export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`Invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function text(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number from ${min} to ${max}, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be from ${min} to ${max}, got ${value}`);
  return value;
}

const BYTE_UNITS: Record<string, number> = {
  b: 1,
  k: 1024, kib: 1024, kb: 1000,
  m: 1024 ** 2, mib: 1024 ** 2, mb: 1000 ** 2,
  g: 1024 ** 3, gib: 1024 ** 3, gb: 1000 ** 3,
  t: 1024 ** 4, tib: 1024 ** 4, tb: 1000 ** 4,
};

/** A size in bytes, or with a unit: "1GiB", "500MB", "1.5 G" (KB/MB/GB/TB count in 1000s, the others in 1024s). */
export function byteSize(env: Env, name: string, fallback: number): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(raw);
  const unit = match ? BYTE_UNITS[(match[2] || 'b').toLowerCase()] : undefined;
  if (!match || unit === undefined) throw new ConfigError(name, `must be a number of bytes or a size such as 1GiB or 500MB, got "${raw}"`);
  return Math.round(Number(match[1]) * unit);
}

function directory(env: Env, name: string, fallback: string, cwd: string): string {
  const raw = text(env, name) ?? fallback;
  if (raw.includes('\0')) throw new ConfigError(name, 'must not contain a NUL byte');
  return isAbsolute(raw) ? resolve(raw) : resolve(cwd, raw);
}

function httpUrl(env: Env, name: string): string | undefined {
  const raw = text(env, name);
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `must be a URL such as http://127.0.0.1:8080, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(name, `must be an http:// or https:// URL, got "${raw}"`);
  }
  return raw.replace(/\/+$/, '');
}

function urlList(env: Env, name: string): string[] {
  return (list(env, name) ?? []).map((item) => {
    httpUrl({ [name]: item }, name);
    return item;
  });
}

function eventList(env: Env, name: string, fallback: string[]): string[] {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  if (raw === '*') return WEBHOOK_EVENTS;
  const events = list(env, name) ?? [];
  const unknown = events.filter((event) => !WEBHOOK_EVENTS.includes(event));
  if (unknown.length > 0) throw new ConfigError(name, `names unknown events (${unknown.join(', ')}); choose from ${WEBHOOK_EVENTS.join(', ')} or *`);
  return events;
}

function choice<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T;
function choice<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: null): T | null;
function choice<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T | null): T | null {
  const raw = text(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${raw}"`);
  return raw as T;
}

function host(env: Env): string {
  const raw = text(env, 'HOST') ?? '127.0.0.1';
  if (!/^[A-Za-z0-9.:\-[\]]+$/.test(raw)) throw new ConfigError('HOST', `must be a host name or IP address, got "${raw}"`);
  return raw;
}

function flag(env: Env, name: string): boolean {
  const raw = text(env, name)?.toLowerCase();
  if (raw === undefined) return false;
  if (['true', '1', 'yes'].includes(raw)) return true;
  if (['false', '0', 'no'].includes(raw)) return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

function list(env: Env, name: string): string[] | null {
  const raw = text(env, name);
  return raw === undefined ? null : raw.split(',').map((entry) => entry.trim()).filter(Boolean);
}

function corsOrigins(env: Env, apiKey: string | null): string[] {
  const origins = list(env, 'CORS_ORIGINS') ?? [];
  for (const origin of origins) {
    if (origin === '*') {
      if (!apiKey) throw new ConfigError('CORS_ORIGINS', 'may be "*" only when API_KEY is set: otherwise any web page could drive the API');
      continue;
    }
    let parsed: URL | null;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = null;
    }
    if (!parsed || parsed.origin !== origin.replace(/\/+$/, '')) throw new ConfigError('CORS_ORIGINS', `must list origins such as https://app.example.com (scheme, host and port only), got "${origin}"`);
  }
  return origins.map((origin) => origin.replace(/\/+$/, ''));
}

/** 127.0.0.0/8, ::1 and the localhost names: the addresses only this machine can reach. */
export function isLoopbackHost(name: string): boolean {
  const host = name.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  return host === 'localhost' || host.endsWith('.localhost') || /^127(?:\.\d{1,3}){3}$/.test(host) || host === '::1' || host === '::ffff:127.0.0.1';
}

function quality(env: Env, name: string): MediaQuality {
  const raw = text(env, name);
  if (raw === undefined) return 'best';
  const value = parseQuality(raw);
  if (value === null) throw new ConfigError(name, `must be best, audio or a maximum picture height such as 1080, got "${raw}"`);
  return value;
}

function languages(env: Env, name: string): string[] {
  const raw = text(env, name);
  if (raw === undefined) return [];
  const value = parseLanguages(raw);
  if (value === null) throw new ConfigError(name, `must be comma-separated BCP-47 language tags such as zh,en, got "${raw}"`);
  return value;
}

/** Reads and validates the environment; throws a ConfigError naming the first bad variable. */
export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): AppConfig {
  const apiKey = text(env, 'API_KEY') ?? null;
  if (apiKey !== null && apiKey.length < 8) throw new ConfigError('API_KEY', 'must be at least 8 characters long');
  const boundHost = host(env);
  const allowNoAuth = flag(env, 'ALLOW_NO_AUTH');
  if (!apiKey && !allowNoAuth && !isLoopbackHost(boundHost)) {
    throw new ConfigError(
      'HOST',
      `is ${boundHost}, which other machines can reach, and no API_KEY is set: anyone on the network could drive downloads. Set API_KEY (8+ characters), or ALLOW_NO_AUTH=true to serve without a key anyway`,
    );
  }
  const dataDir = directory(env, 'DATA_DIR', './data', cwd);
  const proxy = httpUrl(env, 'DOWNLOAD_PROXY') ?? httpUrl(env, 'HTTPS_PROXY') ?? httpUrl(env, 'HTTP_PROXY') ?? null;
  return {
    port: integer(env, 'PORT', 39719, 1, 65535),
    host: boundHost,
    dataDir,
    downloadDir: directory(env, 'DOWNLOAD_DIR', './downloads', cwd),
    apiKey,
    maxConcurrentDownloads: integer(env, 'MAX_CONCURRENT_DOWNLOADS', 3, 1, 64),
    ffmpegPath: text(env, 'FFMPEG_PATH') ?? null,
    ytdlpPath: text(env, 'YTDLP_PATH') ?? null,
    proxy,
    noProxy: text(env, 'NO_PROXY') ?? text(env, 'no_proxy') ?? null,
    directConnections: integer(env, 'DIRECT_CONNECTIONS', 16, 1, 64),
    segmentConcurrency: integer(env, 'SEGMENT_CONCURRENCY', 16, 1, 64),
    retryAttempts: integer(env, 'RETRY_ATTEMPTS', 5, 1, 20),
    retryBaseDelayMs: integer(env, 'RETRY_BASE_DELAY_MS', 500, 1, 60_000),
    stallTimeoutMs: integer(env, 'STALL_TIMEOUT_MS', 30_000, 100, 600_000),
    headTimeoutMs: integer(env, 'HEAD_TIMEOUT_MS', 30_000, 100, 600_000),
    documentTimeoutMs: integer(env, 'DOCUMENT_TIMEOUT_MS', 60_000, 100, 3_600_000),
    resolveTimeoutMs: integer(env, 'RESOLVE_TIMEOUT_MS', 30_000, 100, 600_000),
    progressIntervalMs: integer(env, 'PROGRESS_INTERVAL_MS', 500, 500, 60_000),
    bodyLimitBytes: integer(env, 'BODY_LIMIT_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    bilibiliApiBase: httpUrl(env, 'BILIBILI_API_BASE') ?? 'https://api.bilibili.com',
    ssePingIntervalMs: integer(env, 'SSE_PING_INTERVAL_MS', 15_000, 100, 3_600_000),
    metricsPublic: flag(env, 'METRICS_PUBLIC'),
    metricsGc: flag(env, 'METRICS_GC'),
    webDir: text(env, 'WEB_DIR') === undefined ? null : directory(env, 'WEB_DIR', '', cwd),
    logLevel: choice(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    logFormat: choice(env, 'LOG_FORMAT', ['json', 'pretty'] as const, null),
    webhookUrls: urlList(env, 'WEBHOOK_URLS'),
    webhookSecret: text(env, 'WEBHOOK_SECRET') ?? null,
    webhookEvents: eventList(env, 'WEBHOOK_EVENTS', ['download-success', 'download-failed']),
    corsOrigins: corsOrigins(env, apiKey),
    allowedHosts: list(env, 'ALLOWED_HOSTS')?.map((name) => name.toLowerCase()) ?? null,
    allowNoAuth,
    allowPrivateAddresses: flag(env, 'ALLOW_PRIVATE_ADDRESSES'),
    minFreeSpaceBytes: byteSize(env, 'MIN_FREE_SPACE', 1024 ** 3),
    speedLimit: byteSize(env, 'SPEED_LIMIT', 0),
    defaultQuality: quality(env, 'DEFAULT_QUALITY'),
    defaultAudioLanguage: languages(env, 'DEFAULT_AUDIO_LANGUAGE'),
    defaultSubtitleLanguages: languages(env, 'DEFAULT_SUBTITLE_LANGUAGES'),
    databaseUrl: databaseUrl(env),
    ...nodeIdentity(env, dataDir),
    leaseMs: integer(env, 'LEASE_SECONDS', 30, 2, 600) * 1000,
  };
}

function databaseUrl(env: Env): string | null {
  const value = text(env, 'DATABASE_URL');
  if (value === undefined) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError('DATABASE_URL', 'is not a URL; give postgres://user:password@host:5432/database, or leave it unset for the embedded SQLite file');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError('DATABASE_URL', `must be a postgres:// URL (got ${url.protocol}//…); leave it unset for the embedded SQLite file`);
  }
  return value;
}

export const NODE_ID_FILE = 'node-id';
const NODE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** NODE_ID, else the id an earlier start kept in DATA_DIR, else a new one: the host name and a short random suffix. */
function nodeIdentity(env: Env, dataDir: string): { nodeId: string; nodeIdIsNew: boolean } {
  const given = text(env, 'NODE_ID');
  if (given !== undefined) {
    if (!NODE_ID_PATTERN.test(given)) throw new ConfigError('NODE_ID', 'must be 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit');
    return { nodeId: given, nodeIdIsNew: false };
  }
  try {
    const kept = readFileSync(join(dataDir, NODE_ID_FILE), 'utf8').trim();
    if (NODE_ID_PATTERN.test(kept)) return { nodeId: kept, nodeIdIsNew: false };
  } catch {
    // no id kept yet: a new one is made below
  }
  const host = hostname().replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 48) || 'node';
  return { nodeId: `${host}-${randomBytes(3).toString('hex')}`, nodeIdIsNew: true };
}
