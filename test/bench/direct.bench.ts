import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findExecutable } from '../../src/engine/tools.service.js';
import { OriginServer } from '../fixtures/origin-server.js';
import { BenchService } from './service-process.js';
import { LOOPBACK_ENV, timedRun } from './timed-run.js';

const MiB = 1024 * 1024;
const SIZE = 256 * MiB;
const PER_CONNECTION = 8 * MiB;
const CONNECTIONS = 16;

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Our direct downloader beside aria2c -x16 -s16 -k1M on a 256 MiB file capped at 8 MiB/s per connection. */
export async function runDirectBench(): Promise<string[]> {
  const scratch = await mkdtemp(join(tmpdir(), 'direct-bench-'));
  const source = join(scratch, 'source.bin');
  // written block by block so that this process stays small beside the contenders it spawns
  const handle = await open(source, 'w');
  for (let written = 0; written < SIZE; written += 4 * MiB) await handle.write(randomBytes(4 * MiB));
  await handle.close();
  const expected = await sha256(source);
  const origin = new OriginServer().route('/big.bin', { file: source, bytesPerSecond: PER_CONNECTION });
  await origin.start();
  const url = origin.url('/big.bin');
  try {
    await mkdir(join(scratch, 'ours'));
    const ours = await timedRun(process.execPath, [fileURLToPath(new URL('./direct-worker.js', import.meta.url)), url, join(scratch, 'ours')], {
      ...LOOPBACK_ENV,
      DIRECT_CONNECTIONS: String(CONNECTIONS),
    });
    if (ours.code !== 0) throw new Error(`our downloader failed: ${ours.stderr}`);
    const report = JSON.parse(ours.stdout.trim().split('\n').at(-1)!) as { output: string; totalMs: number; maxRssKb: number };
    const oursCorrect = (await sha256(report.output)) === expected;
    await rm(join(scratch, 'ours'), { recursive: true, force: true });

    const service = new BenchService();
    await service.start(join(scratch, 'service'), { ...LOOPBACK_ENV, DIRECT_CONNECTIONS: String(CONNECTIONS) } as Record<string, string>);
    let serviceMs: number;
    let serviceRssKb: number;
    try {
      serviceMs = await service.download({ type: 'direct', url, name: 'big' });
      serviceRssKb = service.peakRssKb();
    } finally {
      await service.stop();
    }
    const serviceCorrect = (await sha256(join(scratch, 'service', 'downloads', 'big.bin'))) === expected;
    await rm(join(scratch, 'service'), { recursive: true, force: true });

    const limitMs = (SIZE / (PER_CONNECTION * CONNECTIONS)) * 1000;
    const lines = [
      `direct bench: ${SIZE / MiB} MiB, ${PER_CONNECTION / MiB} MiB/s per connection, ${CONNECTIONS} connections`,
      `  physical limit (size ÷ (${CONNECTIONS} × ${PER_CONNECTION / MiB} MiB/s)): ${limitMs.toFixed(0)} ms`,
      `  ours, a task in the running service (POST to success): ${serviceMs.toFixed(0)} ms, ${(serviceMs / limitMs).toFixed(2)}× the limit, sha256 ${serviceCorrect ? 'ok' : 'MISMATCH'}, service peak RSS ${(serviceRssKb / 1024).toFixed(1)} MiB, idle ${(service.idleRssKb / 1024).toFixed(1)} MiB (whole service: API, SQLite, Swagger; target < 150 MiB)`,
      `  ours, the downloader alone in a fresh process: ${ours.wallMs.toFixed(0)} ms process wall (${report.totalMs.toFixed(0)} ms in the download), sha256 ${oursCorrect ? 'ok' : 'MISMATCH'}, peak RSS ${(report.maxRssKb / 1024).toFixed(1)} MiB (target < 150 MiB)`,
    ];
    const aria2c = findExecutable('aria2c', null);
    if (!aria2c) return [...lines, '  aria2c not found (apt-get install aria2): comparison skipped'];
    await mkdir(join(scratch, 'aria2c'));
    const theirs = await timedRun(aria2c, [
      '-x16', '-s16', '-k1M', '--file-allocation=none', '--allow-overwrite=true', '--console-log-level=warn', '--summary-interval=0', '--no-conf',
      '-d', join(scratch, 'aria2c'), '-o', 'big.bin', url,
    ], LOOPBACK_ENV);
    if (theirs.code !== 0) return [...lines, `  aria2c failed: ${theirs.stderr.trim().split('\n').slice(-2).join(' | ')}`];
    const theirsCorrect = (await stat(join(scratch, 'aria2c', 'big.bin'))).size === SIZE;
    return [
      ...lines,
      `  aria2c -x16 -s16 -k1M: ${theirs.wallMs.toFixed(0)} ms, ${(theirs.wallMs / limitMs).toFixed(2)}× the limit${theirsCorrect ? '' : ' (wrong size!)'}`,
      `  ours / aria2c wall time: ${(serviceMs / theirs.wallMs).toFixed(2)} in the service, ${(report.totalMs / theirs.wallMs).toFixed(2)} downloader alone, ${(ours.wallMs / theirs.wallMs).toFixed(2)} incl. Node start-up (target ≤ 1.00)`,
    ];
  } finally {
    await origin.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}
