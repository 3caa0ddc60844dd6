// Runs our direct downloader once in its own process, so that the benchmark can read this process's peak RSS.
// Usage: node build/test/bench/direct-worker.js <url> <work dir>; prints one JSON line.
// the heap the service runs with, set as src/main.ts sets it: before the engine's modules are even parsed
// (static imports all load before any of them runs), so the engine's are imported once it is set
import '../../src/young-generation.js';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
const { loadConfig } = await import('../../src/config/app-config.js');
const { DirectDownloader } = await import('../../src/downloaders/direct/direct.downloader.js');
const { DownloadType } = await import('../../src/common/download-type.enum.js');
const { HttpClient } = await import('../../src/engine/http-client.js');
const { peakRssKb } = await import('./peak-rss.js');

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
