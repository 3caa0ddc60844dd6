import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { OriginServer } from './fixtures/origin-server.js';
import { type TestApp, startTestApp, waitForStatus } from './helpers/app-harness.js';

const MiB = 1024 * 1024;

/** Milliseconds from creating the tasks (started at once) to each one's success. */
async function timedDownloads(test: TestApp, tasks: Array<Record<string, unknown>>): Promise<number[]> {
  const began = Date.now();
  const created = await test.api('POST', '/api/downloads', { tasks, startDownload: true });
  assert.equal(created.status, 200, created.text);
  return Promise.all(created.body.data.map(async (task: { id: number }) => {
    await waitForStatus(test, task.id, ['success'], 30_000);
    return Date.now() - began;
  }));
}

describe('speed limits', () => {
  let origin: OriginServer;
  let test: TestApp;
  const big = randomBytes(20 * MiB);
  const medium = randomBytes(8 * MiB);

  before(async () => {
    origin = new OriginServer().route('/files/big.bin', { body: big }).route('/files/a.bin', { body: medium }).route('/files/b.bin', { body: medium });
    await origin.start();
    test = await startTestApp({ DIRECT_CONNECTIONS: '4', PROGRESS_INTERVAL_MS: '500' });
  });

  after(async () => {
    await test.close();
    await origin.stop();
  });

  // The lower bounds are the limiter's promise and hold however loaded the machine is; the upper bounds only
  // catch a limiter far stricter than asked, with room for a shared machine that stretches every transfer.
  it("holds one task to its own limit: 20 MiB at 4 MiB/s takes at least 5 s less 15%, and not 1.6 times that", async () => {
    const [ms] = await timedDownloads(test, [{ type: 'direct', url: origin.url('/files/big.bin'), name: 'limited', speedLimit: 4 * MiB }]);
    assert.ok(ms >= 4250 && ms <= 8000, `took ${ms} ms`);
    const task = (await test.api('GET', '/api/downloads?search=limited')).body.data.list[0];
    assert.equal(task.speedLimit, 4 * MiB);
    assert.deepEqual(await readFile(task.file), big);
  });

  it('shares a global limit set live between running tasks', async () => {
    const answer = await test.api('PUT', '/api/settings', { speedLimit: 4 * MiB });
    assert.deepEqual(answer.body.data.speedLimit, { value: 4 * MiB, source: 'saved' });
    // 16 MiB at 4 MiB/s in all: about 4 s, and the two finish close together (served one after the other,
    // the first would end at about half the time of the second)
    const [a, b] = await timedDownloads(test, [
      { type: 'direct', url: origin.url('/files/a.bin'), name: 'a' },
      { type: 'direct', url: origin.url('/files/b.bin'), name: 'b' },
    ]);
    assert.ok(Math.max(a, b) >= 3400 && Math.max(a, b) <= 4000 * 1.6, `took ${a} and ${b} ms`);
    assert.ok(Math.abs(a - b) < 0.3 * Math.max(a, b), `finished ${Math.abs(a - b)} ms apart`);
    await test.api('PUT', '/api/settings', { speedLimit: null });
  });

  it('refuses a limit that is not a whole number of bytes per second', async () => {
    const answer = await test.api('POST', '/api/downloads', { tasks: [{ type: 'direct', url: origin.url('/files/a.bin'), speedLimit: '4M' }] });
    assert.equal(answer.status, 400);
    assert.equal((answer.body as any).fields[0].path, 'tasks[0].speedLimit');
  });

  it('passes the limit to yt-dlp as --limit-rate', async () => {
    const created = await test.api('POST', '/api/downloads', { tasks: [{ type: 'youtube', url: origin.url('/files/a.bin'), name: 'yt', speedLimit: 2 * MiB }], startDownload: true });
    const id = created.body.data[0].id;
    await waitForStatus(test, id, ['success', 'failed'], 60_000);
    const { log } = (await test.api('GET', `/api/downloads/${id}/logs`)).body.data;
    assert.match(log, /--limit-rate 2097152/);
  });
});
