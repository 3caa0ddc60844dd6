// Runs our direct downloader once in its own process, so that the benchmark can read this process's peak RSS.
// Usage: node build/test/bench/direct-worker.js <url> <work dir>; prints one JSON line.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/app-config.js';
import { DirectDownloader } from '../../src/downloaders/direct/direct.downloader.js';
import { DownloadType } from '../../src/common/download-type.enum.js';
import { HttpClient } from '../../src/engine/http-client.js';
import { peakRssKb } from './peak-rss.js';

const [url, workDir] = process.argv.slice(2);
const config = loadConfig(process.env, workDir);
const http = new HttpClient({ stallTimeoutMs: config.stallTimeoutMs, retry: { attempts: config.retryAttempts, baseDelayMs: config.retryBaseDelayMs } });
const downloader = new DirectDownloader(http, config);
mkdirSync(join(workDir, 'work'), { recursive: true });
const began = performance.now();
let bytes = 0;
const output = await downloader.run(
  { id: 1, type: DownloadType.Direct, url, name: 'bench', nameIsDerived: false, headers: [], isLive: false, outputDir: workDir, workDir: join(workDir, 'work'), deleteSegments: true, speedLimit: null, quality: 'best', audioLanguages: [], subtitleLanguages: [] },
  { signal: new AbortController().signal, progress: (report) => (bytes = report.downloadedBytes), log: () => undefined },
);
const totalMs = performance.now() - began;
await http.close();
console.log(JSON.stringify({ output: output.path, bytes, totalMs, maxRssKb: peakRssKb() }));
