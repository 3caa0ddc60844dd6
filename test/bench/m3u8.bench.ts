import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/app-config.js';
import { ToolsService } from '../../src/engine/tools.service.js';
import { PLAYLIST_TYPE, ffmpeg } from '../fixtures/hls-media.js';
import { OriginServer } from '../fixtures/origin-server.js';
import { BenchService } from './service-process.js';
import { LOOPBACK_ENV, timedRun } from './timed-run.js';

const SEGMENTS = 300;
const LATENCY_MS = 40;
const CONCURRENCY = 16;
/** ~200 KB per 1-second segment. */
const BITRATE = '1600k';

/** 300 one-second MPEG-TS segments at a constant ~1.6 Mbit/s, made once and cached in the temp dir. */
function benchMedia(ffmpegPath: string): string {
  const dir = join(tmpdir(), 'm3u8-bench-media-v1');
  if (existsSync(join(dir, 'index.m3u8'))) return dir;
  mkdirSync(dir, { recursive: true });
  ffmpeg(ffmpegPath, [
    '-f', 'lavfi', '-i', `testsrc=size=320x240:rate=25:duration=${SEGMENTS}`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-keyint_min', '25', '-sc_threshold', '0',
    '-b:v', BITRATE, '-minrate', BITRATE, '-maxrate', BITRATE, '-bufsize', '800k', '-x264-params', 'nal-hrd=cbr',
    '-f', 'hls', '-hls_time', '1', '-hls_list_size', '0', '-hls_playlist_type', 'vod', '-hls_segment_filename', 'seg%d.ts', 'index.m3u8',
  ], dir);
  return dir;
}

function ratio(slow: number, fast: number): string {
  return `${(slow / fast).toFixed(2)}×`;
}

function rate(bytes: number, ms: number): string {
  return `${((bytes / (ms / 1000)) / 1e6).toFixed(1)} MB/s`;
}

/** Times our engine, ffmpeg and yt-dlp -N 16 on the same 300-segment stream with 40 ms latency per request. */
export async function runM3u8Bench(): Promise<string[]> {
  const config = loadConfig(process.env);
  const tools = new ToolsService(config);
  if (!tools.ffmpeg) return ['m3u8 bench skipped: ffmpeg not found'];
  const media = benchMedia(tools.ffmpeg);
  const origin = new OriginServer();
  for (const file of readdirSync(media)) {
    // served from memory so that the origin's own disk reads do not weigh on any contender
    origin.route(`/hls/${file}`, { body: readFileSync(join(media, file)), latencyMs: LATENCY_MS, contentType: file.endsWith('.m3u8') ? PLAYLIST_TYPE : 'video/mp2t' });
  }
  await origin.start();
  const url = origin.url('/hls/index.m3u8');
  const bytes = readdirSync(media).filter((file) => file.endsWith('.ts')).reduce((sum, file) => sum + statSync(join(media, file)).size, 0);
  const scratch = mkdtempSync(join(tmpdir(), 'm3u8-bench-'));
  try {
    const worker = fileURLToPath(new URL('./m3u8-worker.js', import.meta.url));
    mkdirSync(join(scratch, 'ours'));
    const ours = await timedRun(process.execPath, [worker, url, join(scratch, 'ours')], { ...LOOPBACK_ENV, SEGMENT_CONCURRENCY: String(CONCURRENCY) });
    if (ours.code !== 0) throw new Error(`our engine failed: ${ours.stderr}`);
    const report = JSON.parse(ours.stdout.trim().split('\n').at(-1)!) as { downloadMs: number; totalMs: number; maxRssKb: number };

    const service = new BenchService();
    await service.start(join(scratch, 'service'), { ...LOOPBACK_ENV, SEGMENT_CONCURRENCY: String(CONCURRENCY) } as Record<string, string>);
    let serviceMs: number;
    let serviceRssKb: number;
    try {
      serviceMs = await service.download({ type: 'm3u8', url, name: 'bench' });
      serviceRssKb = service.peakRssKb();
    } finally {
      await service.stop();
    }

    const ffmpegRun = await timedRun(tools.ffmpeg, ['-hide_banner', '-nostdin', '-v', 'error', '-y', '-i', url, '-c', 'copy', join(scratch, 'ffmpeg.mp4')], LOOPBACK_ENV);
    if (ffmpegRun.code !== 0) throw new Error(`ffmpeg failed: ${ffmpegRun.stderr}`);

    const ytdlpLines: string[] = [];
    let ytdlpMs: number | null = null;
    if (tools.ytdlp) {
      const ytdlp = await timedRun(tools.ytdlp, [
        '--ignore-config', '--no-cache-dir', '--no-part', '--no-progress', '--proxy', '', '--force-generic-extractor',
        '-N', String(CONCURRENCY), '-o', join(scratch, 'ytdlp.%(ext)s'), url,
      ], LOOPBACK_ENV);
      if (ytdlp.code !== 0) ytdlpLines.push(`yt-dlp failed: ${ytdlp.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      else ytdlpMs = ytdlp.wallMs;
    } else {
      ytdlpLines.push('yt-dlp not found: skipped');
    }

    const limitMs = (SEGMENTS * LATENCY_MS) / CONCURRENCY;
    const mb = (bytes / 1e6).toFixed(1);
    return [
      `m3u8 bench: ${SEGMENTS} segments, ${mb} MB, ${LATENCY_MS} ms latency per request, ${CONCURRENCY} in flight`,
      `  physical limit (${SEGMENTS} × ${LATENCY_MS} ms ÷ ${CONCURRENCY}): ${limitMs.toFixed(0)} ms`,
      `  ours, the engine alone in a fresh process (fetch + merge): ${report.totalMs.toFixed(0)} ms, ${rate(bytes, report.totalMs)}; segments fetched in ${report.downloadMs.toFixed(0)} ms = ${(report.downloadMs / limitMs).toFixed(2)}× the limit (target ≤ 1.3×)`,
      `  ours, whole process incl. Node start-up and module load: ${ours.wallMs.toFixed(0)} ms`,
      `  ours, a task in the running service (POST to success): ${serviceMs.toFixed(0)} ms, service peak RSS ${(serviceRssKb / 1024).toFixed(1)} MiB, idle ${(service.idleRssKb / 1024).toFixed(1)} MiB (target < 150 MiB)`,
      `  ffmpeg -c copy: ${ffmpegRun.wallMs.toFixed(0)} ms, ${rate(bytes, ffmpegRun.wallMs)} → ours ${ratio(ffmpegRun.wallMs, report.totalMs)} faster per task, ${ratio(ffmpegRun.wallMs, ours.wallMs)} by process wall (target ≥ 5×)`,
      ...(ytdlpMs !== null ? [`  yt-dlp -N ${CONCURRENCY}: ${ytdlpMs.toFixed(0)} ms, ${rate(bytes, ytdlpMs)} → ours ${ratio(ytdlpMs, report.totalMs)} faster per task, ${ratio(ytdlpMs, ours.wallMs)} by process wall (target ≥ 1.5×)`] : ytdlpLines),
      `  our peak RSS, the engine alone in a fresh process: ${(report.maxRssKb / 1024).toFixed(1)} MiB (target < 150 MiB)`,
    ];
  } finally {
    await origin.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}
