// Runs our HLS engine once in its own process, so that the benchmark can read this process's peak RSS.
// Usage: node build/test/bench/m3u8-worker.js <playlist url> <work dir>; prints one JSON line.
import { join } from 'node:path';
import { loadConfig } from '../../src/config/app-config.js';
import { M3u8Downloader } from '../../src/downloaders/m3u8/m3u8.downloader.js';
import { DownloadType } from '../../src/common/download-type.enum.js';
import { HttpClient } from '../../src/engine/http-client.js';
import { peakRssKb } from './peak-rss.js';
import { ToolsService } from '../../src/engine/tools.service.js';

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
