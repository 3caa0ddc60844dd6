import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OriginServer } from './fixtures/origin-server.js';
import { waitFor } from './helpers/app-harness.js';
import { ServiceProcess, bootAndExit } from './helpers/service-process.js';

const MiB = 1024 * 1024;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('restart recovery', () => {
  let origin: OriginServer;
  let root: string;
  const size = 6 * MiB;
  const content = randomBytes(size);

  before(async () => {
    origin = new OriginServer()
      .route('/crash.bin', { body: content, bytesPerSecond: 512 * 1024 })
      .route('/term.bin', { body: content, bytesPerSecond: 512 * 1024 });
    await origin.start();
    root = await mkdtemp(join(tmpdir(), 'mediago-restart-'));
  });

  after(async () => {
    await origin.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('refuses to boot with an invalid variable, naming it', async () => {
    const { code, output } = await bootAndExit({ MAX_CONCURRENT_DOWNLOADS: 'lots', DATA_DIR: join(root, 'bad') });
    assert.equal(code, 2);
    assert.match(output, /MAX_CONCURRENT_DOWNLOADS must be a whole number/);
  });

  it('exits on SIGTERM while an event stream is open', async () => {
    const service = new ServiceProcess(root);
    await service.start();
    const controller = new AbortController();
    const stream = await fetch(`${service.baseUrl}/api/events`, { signal: controller.signal });
    assert.equal(stream.status, 200);
    const reading = stream.body!.getReader().read();
    try {
      const exit = await service.kill('SIGTERM');
      assert.ok(exit.code === 0 || exit.signal === 'SIGTERM', `exit ${exit.code} ${exit.signal}`);
    } finally {
      controller.abort();
      await reading.catch(() => undefined);
    }
  });

  it('resumes a download after kill -9 and finishes it byte-exact', async () => {
    const first = new ServiceProcess(root);
    await first.start();
    const created = await first.api('POST', '/api/downloads', { tasks: [{ type: 'direct', url: origin.url('/crash.bin'), name: 'crash' }], startDownload: true });
    const id = created.body.data[0].id;
    // wait until a checkpoint (every 2 s) has recorded real progress on disk
    await waitFor(async () => (await first.api('GET', `/api/downloads/${id}`)).body.data.downloadedBytes > size / 3, 30_000, 'a third of the file');
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    await first.kill('SIGKILL');
    const sentBeforeCrash = origin.sentBytes('/crash.bin');

    const second = new ServiceProcess(root);
    await second.start();
    try {
      const done = await waitFor(async () => {
        const { body } = await second.api('GET', `/api/downloads/${id}`);
        return ['success', 'failed'].includes(body.data.status) ? body.data : null;
      }, 60_000, 'the task to finish after the restart');
      assert.equal(done.status, 'success', done.error);
      assert.equal(sha256(await readFile(done.file)), sha256(content));
      const sentAfter = origin.sentBytes('/crash.bin') - sentBeforeCrash;
      assert.ok(sentAfter < size - size / 4, `after the restart the origin sent ${sentAfter} of ${size} bytes: the data on disk was not reused`);
      const log = (await second.api('GET', `/api/downloads/${id}/logs`)).body.data.log;
      assert.match(log, /queued again/);
      assert.match(log, /resuming/);
    } finally {
      await second.kill('SIGTERM');
    }
  });

  it('on SIGTERM exits promptly, leaves the running task queued, and resumes it at the next start', async () => {
    const first = new ServiceProcess(root);
    await first.start();
    const created = await first.api('POST', '/api/downloads', { tasks: [{ type: 'direct', url: origin.url('/term.bin'), name: 'term' }], startDownload: true });
    const id = created.body.data[0].id;
    await waitFor(async () => (await first.api('GET', `/api/downloads/${id}`)).body.data.downloadedBytes > size / 4, 30_000, 'a quarter of the file');
    const exit = await first.kill('SIGTERM');
    // Nest closes the app, then re-raises the signal: an exit by SIGTERM (or code 0) is a clean one
    assert.ok(exit.code === 0 || exit.signal === 'SIGTERM', `exit ${exit.code} ${exit.signal}\n${first.output}`);
    assert.doesNotMatch(first.output, /ERROR/);

    const second = new ServiceProcess(root);
    await second.start();
    try {
      const done = await waitFor(async () => {
        const { body } = await second.api('GET', `/api/downloads/${id}`);
        return ['success', 'failed', 'stopped'].includes(body.data.status) ? body.data : null;
      }, 60_000, 'the task to finish after the restart');
      assert.equal(done.status, 'success', done.error);
      assert.equal(sha256(await readFile(done.file)), sha256(content));
      const log = (await second.api('GET', `/api/downloads/${id}/logs`)).body.data.log;
      assert.match(log, /interrupted by a shutdown/);
    } finally {
      await second.kill('SIGTERM');
    }
  });
});
