import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type AppConfig, ConfigError, NODE_ID_FILE, loadConfig } from './app-config.js';

const CWD = '/srv/mediago';
const configWith = (env: Record<string, string | undefined> = {}) => loadConfig(env, CWD);
/** Asserts that the variable is refused with a message that names it. */
const refuses = (variable: string, value: string, problem: RegExp) =>
  assert.throws(
    () => configWith({ [variable]: value }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, `${variable}=${value} throws a ConfigError`);
      assert.equal(error.name, 'ConfigError');
      assert.ok(error.message.startsWith(`Invalid configuration: ${variable} `), error.message);
      assert.match(error.message, problem);
      return true;
    },
  );

describe('loadConfig', () => {
  it('has a sensible default for everything', () => {
    const { nodeId, ...config } = configWith();
    assert.match(nodeId, /^[A-Za-z0-9][A-Za-z0-9._-]*-[0-9a-f]{6}$/, 'the host name and a random suffix');
    assert.deepEqual(config, {
      port: 39719,
      host: '127.0.0.1',
      dataDir: '/srv/mediago/data',
      downloadDir: '/srv/mediago/downloads',
      apiKey: null,
      maxConcurrentDownloads: 3,
      ffmpegPath: null,
      ytdlpPath: null,
      proxy: null,
      noProxy: null,
      directConnections: 16,
      segmentConcurrency: 16,
      retryAttempts: 5,
      retryBaseDelayMs: 500,
      stallTimeoutMs: 30_000,
      headTimeoutMs: 30_000,
      documentTimeoutMs: 60_000,
      resolveTimeoutMs: 30_000,
      progressIntervalMs: 500,
      bodyLimitBytes: 1024 * 1024,
      bilibiliApiBase: 'https://api.bilibili.com',
      ssePingIntervalMs: 15_000,
      corsOrigins: [],
      allowedHosts: null,
      allowNoAuth: false,
      allowPrivateAddresses: false,
      metricsPublic: false,
      metricsGc: false,
      webDir: null,
      logLevel: 'info',
      logFormat: null,
      webhookUrls: [],
      webhookSecret: null,
      webhookEvents: ['download-success', 'download-failed'],
      minFreeSpaceBytes: 1024 ** 3,
      speedLimit: 0,
      defaultQuality: 'best',
      defaultAudioLanguage: [],
      defaultSubtitleLanguages: [],
      databaseUrl: null,
      nodeIdIsNew: true,
      leaseMs: 30_000,
    });
  });

  it('reads the scale-out variables, and keeps a generated node id in DATA_DIR', () => {
    const config = configWith({ DATABASE_URL: 'postgres://media:secret@db.internal:5432/mediago', NODE_ID: 'node-7', LEASE_SECONDS: '10' });
    assert.deepEqual([config.databaseUrl, config.nodeId, config.nodeIdIsNew, config.leaseMs], ['postgres://media:secret@db.internal:5432/mediago', 'node-7', false, 10_000]);
    assert.throws(() => configWith({ DATABASE_URL: 'mysql://db/x' }), /DATABASE_URL must be a postgres:\/\/ URL/);
    assert.throws(() => configWith({ DATABASE_URL: 'not a url' }), /DATABASE_URL is not a URL/);
    assert.throws(() => configWith({ NODE_ID: 'no spaces please' }), /NODE_ID must be 1 to 64 letters/);
    assert.throws(() => configWith({ LEASE_SECONDS: '1' }), /LEASE_SECONDS/);
    const dataDir = mkdtempSync(join(tmpdir(), 'mediago-node-id-'));
    try {
      writeFileSync(join(dataDir, NODE_ID_FILE), 'kept-node-1\n');
      const kept = loadConfig({ DATA_DIR: dataDir });
      assert.deepEqual([kept.nodeId, kept.nodeIdIsNew], ['kept-node-1', false]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('reads the operations variables: logs, metrics, webhooks, the dashboard', () => {
    const config = configWith({
      LOG_LEVEL: 'DEBUG',
      LOG_FORMAT: 'json',
      METRICS_PUBLIC: 'yes',
      METRICS_GC: 'true',
      WEBHOOK_URLS: 'https://hooks.example.com/a?token=1 , http://127.0.0.1:9000/b',
      WEBHOOK_SECRET: 's3cret-value',
      WEBHOOK_EVENTS: '*',
      WEB_DIR: 'public',
    });
    assert.equal(config.logLevel, 'debug');
    assert.equal(config.logFormat, 'json');
    assert.equal(config.metricsPublic, true);
    assert.equal(config.metricsGc, true);
    assert.deepEqual(config.webhookUrls, ['https://hooks.example.com/a?token=1', 'http://127.0.0.1:9000/b']);
    assert.equal(config.webhookSecret, 's3cret-value');
    assert.equal(config.webhookEvents.length, 7);
    assert.equal(config.webDir, '/srv/mediago/public');
  });

  it('names the operations variable that is wrong', () => {
    assert.throws(() => configWith({ LOG_LEVEL: 'loud' }), /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent/);
    assert.throws(() => configWith({ LOG_FORMAT: 'xml' }), /LOG_FORMAT must be one of json, pretty/);
    assert.throws(() => configWith({ METRICS_PUBLIC: 'maybe' }), /METRICS_PUBLIC must be true or false/);
    assert.throws(() => configWith({ METRICS_GC: 'sometimes' }), /METRICS_GC must be true or false/);
    assert.throws(() => configWith({ WEBHOOK_URLS: 'https://ok.example.com, ftp://files.example.com' }), /WEBHOOK_URLS must be an http:\/\/ or https:\/\/ URL/);
    assert.throws(() => configWith({ WEBHOOK_EVENTS: 'download-success,download-progress' }), /WEBHOOK_EVENTS names unknown events \(download-progress\)/);
  });

  it('treats empty and blank variables as unset', () => {
    const withoutNodeId = ({ nodeId: _nodeId, ...config }: AppConfig) => config;
    assert.deepEqual(withoutNodeId(configWith({ PORT: '', API_KEY: '   ', DATA_DIR: ' ', DOWNLOAD_PROXY: '', NODE_ID: ' ', DATABASE_URL: '' })), withoutNodeId(configWith()));
  });

  it('reads each variable, trimmed', () => {
    const config = configWith({
      PORT: ' 8080 ',
      HOST: '0.0.0.0',
      API_KEY: '  long-enough-key  ',
      MAX_CONCURRENT_DOWNLOADS: '64',
      FFMPEG_PATH: '/usr/bin/ffmpeg',
      YTDLP_PATH: '/usr/local/bin/yt-dlp',
      NO_PROXY: 'localhost,127.0.0.1',
      RETRY_ATTEMPTS: '1',
      HEAD_TIMEOUT_MS: '1500',
      DOCUMENT_TIMEOUT_MS: '2500',
      RESOLVE_TIMEOUT_MS: '4500',
    });
    assert.equal(config.port, 8080);
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.apiKey, 'long-enough-key');
    assert.equal(config.maxConcurrentDownloads, 64);
    assert.equal(config.ffmpegPath, '/usr/bin/ffmpeg');
    assert.equal(config.ytdlpPath, '/usr/local/bin/yt-dlp');
    assert.equal(config.noProxy, 'localhost,127.0.0.1');
    assert.equal(config.retryAttempts, 1);
    assert.equal(config.headTimeoutMs, 1_500);
    assert.equal(config.documentTimeoutMs, 2_500);
    assert.equal(config.resolveTimeoutMs, 4_500);
  });

  describe('PORT', () => {
    it('accepts 1 to 65535', () => {
      assert.equal(configWith({ PORT: '1' }).port, 1);
      assert.equal(configWith({ PORT: '65535' }).port, 65535);
    });

    it('refuses numbers out of range', () => {
      refuses('PORT', '0', /must be from 1 to 65535, got 0/);
      refuses('PORT', '65536', /must be from 1 to 65535, got 65536/);
    });

    it('refuses what is not a whole number, quoting it', () => {
      for (const value of ['http', '-1', '80.5', '1e3', '0x50', '80 81']) refuses('PORT', value, new RegExp(`must be a whole number from 1 to 65535, got "${value.replace('.', '\\.')}"`));
    });
  });

  describe('MAX_CONCURRENT_DOWNLOADS', () => {
    it('refuses 0, more than 64 and non-numbers', () => {
      refuses('MAX_CONCURRENT_DOWNLOADS', '0', /must be from 1 to 64, got 0/);
      refuses('MAX_CONCURRENT_DOWNLOADS', '65', /must be from 1 to 64, got 65/);
      refuses('MAX_CONCURRENT_DOWNLOADS', 'many', /must be a whole number from 1 to 64/);
    });
  });

  it('names every other numeric variable in its error', () => {
    for (const variable of ['DIRECT_CONNECTIONS', 'SEGMENT_CONCURRENCY', 'RETRY_ATTEMPTS', 'RETRY_BASE_DELAY_MS', 'STALL_TIMEOUT_MS', 'PROGRESS_INTERVAL_MS', 'BODY_LIMIT_BYTES', 'SSE_PING_INTERVAL_MS']) {
      refuses(variable, 'soon', /must be a whole number from \d+ to \d+, got "soon"/);
      refuses(variable, '0', /must be from \d+ to \d+, got 0/);
    }
  });

  describe('API_KEY', () => {
    it('refuses a key shorter than 8 characters', () => {
      refuses('API_KEY', 'short', /must be at least 8 characters long/);
      refuses('API_KEY', '  1234567  ', /must be at least 8 characters long/);
    });

    it('accepts 8 characters', () => {
      assert.equal(configWith({ API_KEY: '12345678' }).apiKey, '12345678');
    });
  });

  describe('DOWNLOAD_PROXY', () => {
    it('accepts an http or https URL and drops trailing slashes', () => {
      assert.equal(configWith({ DOWNLOAD_PROXY: 'http://127.0.0.1:8080/' }).proxy, 'http://127.0.0.1:8080');
      assert.equal(configWith({ DOWNLOAD_PROXY: 'https://user:pw@proxy.example:3128' }).proxy, 'https://user:pw@proxy.example:3128');
    });

    it('refuses what is not a URL', () => {
      refuses('DOWNLOAD_PROXY', '127.0.0.1:8080x', /must be a URL such as http:\/\/127\.0\.0\.1:8080, got "127\.0\.0\.1:8080x"/);
      refuses('DOWNLOAD_PROXY', 'proxy', /must be a URL such as/);
    });

    it('refuses a URL of another scheme', () => {
      refuses('DOWNLOAD_PROXY', 'socks5://127.0.0.1:1080', /must be an http:\/\/ or https:\/\/ URL, got "socks5:\/\/127\.0\.0\.1:1080"/);
    });

    it('falls back to HTTPS_PROXY, then HTTP_PROXY', () => {
      assert.equal(configWith({ HTTPS_PROXY: 'http://secure:1', HTTP_PROXY: 'http://plain:2' }).proxy, 'http://secure:1');
      assert.equal(configWith({ HTTP_PROXY: 'http://plain:2' }).proxy, 'http://plain:2');
      assert.equal(configWith({ DOWNLOAD_PROXY: 'http://ours:3', HTTPS_PROXY: 'http://secure:1' }).proxy, 'http://ours:3');
      refuses('HTTP_PROXY', 'ftp://x', /must be an http:\/\/ or https:\/\/ URL/);
    });

    it('reads no_proxy in lower case too', () => {
      assert.equal(configWith({ no_proxy: '.internal' }).noProxy, '.internal');
    });
  });

  it('checks BILIBILI_API_BASE like a proxy URL', () => {
    assert.equal(configWith({ BILIBILI_API_BASE: 'http://127.0.0.1:9000/' }).bilibiliApiBase, 'http://127.0.0.1:9000');
    refuses('BILIBILI_API_BASE', 'api.bilibili.com', /must be a URL/);
  });

  describe('directories', () => {
    it('resolves relative directories against the working directory', () => {
      const config = configWith({ DATA_DIR: 'state', DOWNLOAD_DIR: './media/../videos' });
      assert.equal(config.dataDir, '/srv/mediago/state');
      assert.equal(config.downloadDir, '/srv/mediago/videos');
    });

    it('keeps absolute directories, normalised', () => {
      const config = configWith({ DATA_DIR: '/var/lib/mediago/', DOWNLOAD_DIR: '/home/me/../me/Downloads' });
      assert.equal(config.dataDir, '/var/lib/mediago');
      assert.equal(config.downloadDir, '/home/me/Downloads');
    });

    it('refuses a NUL byte', () => {
      refuses('DATA_DIR', 'data\u0000x', /must not contain a NUL byte/);
      refuses('DOWNLOAD_DIR', '/x\u0000', /must not contain a NUL byte/);
    });
  });

  it('refuses a HOST with characters no host name has', () => {
    refuses('HOST', 'local host', /must be a host name or IP address, got "local host"/);
    assert.equal(configWith({ HOST: '::1' }).host, '::1');
    assert.equal(configWith({ HOST: '[::]', API_KEY: 'long-enough-key' }).host, '[::]');
  });

  describe('exposure', () => {
    it('refuses a non-loopback HOST without API_KEY, naming both ways out', () => {
      for (const address of ['0.0.0.0', '[::]', '192.168.1.10', 'media.lan']) {
        refuses('HOST', address, /no API_KEY is set.*Set API_KEY.*ALLOW_NO_AUTH=true/);
      }
    });

    it('serves loopback without a key, and any address with a key or ALLOW_NO_AUTH=true', () => {
      for (const address of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'box.localhost']) assert.equal(configWith({ HOST: address }).host, address);
      assert.equal(configWith({ HOST: '0.0.0.0', API_KEY: 'long-enough-key' }).host, '0.0.0.0');
      const open = configWith({ HOST: '0.0.0.0', ALLOW_NO_AUTH: 'true' });
      assert.equal(open.allowNoAuth, true);
      refuses('ALLOW_NO_AUTH', 'maybe', /must be true or false, got "maybe"/);
    });

    it('reads CORS_ORIGINS as a list of origins; "*" only with API_KEY', () => {
      assert.deepEqual(configWith({ CORS_ORIGINS: 'https://a.example, http://localhost:5173/' }).corsOrigins, ['https://a.example', 'http://localhost:5173']);
      refuses('CORS_ORIGINS', '*', /only when API_KEY is set/);
      assert.deepEqual(configWith({ CORS_ORIGINS: '*', API_KEY: 'long-enough-key' }).corsOrigins, ['*']);
      refuses('CORS_ORIGINS', 'https://a.example/path', /scheme, host and port only/);
      refuses('CORS_ORIGINS', 'a.example', /scheme, host and port only/);
    });

    it('reads ALLOWED_HOSTS lower-cased, and ALLOW_PRIVATE_ADDRESSES as a flag', () => {
      assert.deepEqual(configWith({ ALLOWED_HOSTS: 'Media.LAN, .home.arpa' }).allowedHosts, ['media.lan', '.home.arpa']);
      assert.equal(configWith({ ALLOW_PRIVATE_ADDRESSES: 'true' }).allowPrivateAddresses, true);
      assert.equal(configWith({ ALLOW_PRIVATE_ADDRESSES: '0' }).allowPrivateAddresses, false);
      refuses('ALLOW_PRIVATE_ADDRESSES', 'sure', /must be true or false/);
    });
  });

  describe('MIN_FREE_SPACE', () => {
    it('accepts bytes, binary and decimal units, in any case', () => {
      const bytes = (value: string) => configWith({ MIN_FREE_SPACE: value }).minFreeSpaceBytes;
      assert.equal(bytes('0'), 0);
      assert.equal(bytes('4096'), 4096);
      assert.equal(bytes('1GiB'), 1024 ** 3);
      assert.equal(bytes('1gib'), 1024 ** 3);
      assert.equal(bytes('500MB'), 500_000_000);
      assert.equal(bytes('1.5 G'), 1.5 * 1024 ** 3);
      assert.equal(bytes('2TiB'), 2 * 1024 ** 4);
      assert.equal(bytes('64k'), 64 * 1024);
    });

    it('refuses what is not a size, quoting it', () => {
      refuses('MIN_FREE_SPACE', 'lots', /must be a number of bytes or a size such as 1GiB or 500MB, got "lots"/);
      refuses('MIN_FREE_SPACE', '-1GiB', /got "-1GiB"/);
      refuses('MIN_FREE_SPACE', '1 parsec', /got "1 parsec"/);
    });
  });

  it('reads the default media choice: DEFAULT_QUALITY, DEFAULT_AUDIO_LANGUAGE, DEFAULT_SUBTITLE_LANGUAGES', () => {
    const plain = loadConfig({}, '/srv');
    assert.deepEqual([plain.defaultQuality, plain.defaultAudioLanguage, plain.defaultSubtitleLanguages], ['best', [], []]);
    const chosen = loadConfig({ DEFAULT_QUALITY: '720p', DEFAULT_AUDIO_LANGUAGE: 'jpn,en', DEFAULT_SUBTITLE_LANGUAGES: 'zh-hans, en' }, '/srv');
    assert.deepEqual([chosen.defaultQuality, chosen.defaultAudioLanguage, chosen.defaultSubtitleLanguages], [720, ['ja', 'en'], ['zh-Hans', 'en']]);
    assert.equal(loadConfig({ DEFAULT_QUALITY: 'audio' }, '/srv').defaultQuality, 'audio');
    assert.throws(() => loadConfig({ DEFAULT_QUALITY: 'hd' }, '/srv'), /DEFAULT_QUALITY must be best, audio or a maximum picture height such as 1080, got "hd"/);
    assert.throws(() => loadConfig({ DEFAULT_SUBTITLE_LANGUAGES: 'en;fr' }, '/srv'), /DEFAULT_SUBTITLE_LANGUAGES must be comma-separated BCP-47 language tags/);
  });
});
