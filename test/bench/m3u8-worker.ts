// Runs our HLS engine once in its own process, so that the benchmark can read this process's peak RSS.
// Usage: node build/test/bench/m3u8-worker.js <playlist url> <work dir>; prints one JSON line.
// the heap the service runs with, set as src/main.ts sets it: before the engine's modules are even parsed
// (static imports all load before any of them runs), so the engine's are imported once it is set
import '../../src/young-generation.js';
import { join } from 'node:path';
const { loadConfig } = await import('../../src/config/app-config.js');
const { M3u8Downloader } = await import('../../src/downloaders/m3u8/m3u8.downloader.js');
const { DownloadType } = await import('../../src/common/download-type.enum.js');
const { HttpClient } = await import('../../src/engine/http-client.js');
const { peakRssKb } = await import('./peak-rss.js');
const { ToolsService } = await import('../../src/engine/tools.service.js');

const [url, workDir] = process.argv.slice(2);
const config = loadConfig(process.env, workDir);
const http = new HttpClient({ stallTimeoutMs: config.stallTimeoutMs, retry: { attempts: config.retryAttempts, baseDelayMs: config.retryBaseDelayMs } });
const downloader = new M3u8Downloader(http, new ToolsService(config), config);
const began = performance.now();
let downloadedAt = 0;
let bytes = 0;
const output = await downloader.run(
  { id: 1, type: DownloadType.M3u8, url, name: 'bench', nameIsDerived: false, headers: [], isLive: false, outputDir: workDir, workDir: join(workDir, 'work'), deleteSegments: true, speedLimit: null, quality: 'best', audioLanguages: [], subtitleLanguages: [] },
  {
    signal: new AbortController().signal,
    progress: (report) => {
      bytes = report.downloadedBytes;
      if (report.percent === 100 && downloadedAt === 0) downloadedAt = performance.now();
    },
    log: (line) => { if (process.env.BENCH_TRACE) console.error(`${(performance.now() - began).toFixed(0)} ms ${line.slice(0, 120)}`); },
  },
);
const finished = performance.now();
await http.close();
console.log(JSON.stringify({ output: output.path, bytes, downloadMs: downloadedAt - began, totalMs: finished - began, maxRssKb: peakRssKb() }));
