// Two nodes' buses on one real PostgreSQL database (the server `npm test` found or started).
import 'reflect-metadata';
import { EventEmitter2 } from '@nestjs/event-emitter';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DataSource } from 'typeorm';
import { createTestDatabase } from '../../test/helpers/postgres-database.js';
import { type AppConfig, loadConfig } from '../config/app-config.js';
import { dataSourceOptions, openDataSource } from '../database/data-source-options.js';
import { DownloadEvent, REMOTE_DOWNLOAD_EVENT, type RemoteDownloadEvent } from '../events/download-events.js';
import { type AbortRequest, ClusterBus } from './cluster-bus.service.js';

async function until<T>(what: string, value: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = value();
    if (found !== undefined) return found;
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('ClusterBus between two nodes (real PostgreSQL)', () => {
  let database: { url: string; drop(): Promise<void> };
  let schema: DataSource;
  const emitters = { a: new EventEmitter2(), b: new EventEmitter2() };
  const received: RemoteDownloadEvent[] = [];
  const aborts: AbortRequest[] = [];
  let wakes = 0;
  let busA: ClusterBus;
  let busB: ClusterBus;

  const configOf = (nodeId: string): AppConfig => loadConfig({ DATA_DIR: '/tmp/unused', DATABASE_URL: database.url, NODE_ID: nodeId });

  before(async () => {
    database = await createTestDatabase('bus');
    schema = await openDataSource(dataSourceOptions('/unused', database.url));
    busA = new ClusterBus(configOf('node-a'), emitters.a);
    busB = new ClusterBus(configOf('node-b'), emitters.b);
    emitters.b.on(REMOTE_DOWNLOAD_EVENT, (event: RemoteDownloadEvent) => received.push(event));
    busB.onAbortRequest(async (request) => {
      aborts.push(request);
    });
    busB.onWake(() => wakes++);
    await Promise.all([busA.onModuleInit(), busB.onModuleInit()]);
    assert.ok(busA.listening && busB.listening);
  });

  after(async () => {
    await busA?.onApplicationShutdown();
    await busB?.onApplicationShutdown();
    await schema?.destroy();
    await database?.drop();
  });

  it('carries events to the other node in order, never back to their own', async () => {
    const echoes: RemoteDownloadEvent[] = [];
    emitters.a.on(REMOTE_DOWNLOAD_EVENT, (event: RemoteDownloadEvent) => echoes.push(event));
    emitters.a.emit(DownloadEvent.Started, { id: 1 });
    emitters.a.emit(DownloadEvent.Failed, { id: 1, error: 'the origin answered 404', errorCode: 'download_failed' });
    await until('both arrive', () => (received.length >= 2 ? true : undefined));
    assert.deepEqual(
      received.slice(0, 2).map((event) => event.name),
      [DownloadEvent.Started, DownloadEvent.Failed],
    );
    assert.deepEqual(received[1].payload, { id: 1, error: 'the origin answered 404', errorCode: 'download_failed' });
    assert.deepEqual(echoes, []);
  });

  it('sends an event too large for a NOTIFY by reference', async () => {
    const ids = Array.from({ length: 3000 }, (_, index) => 100_000 + index);
    emitters.a.emit(DownloadEvent.Created, { ids, count: ids.length });
    const created = await until('the create arrives', () => received.find((event) => event.name === DownloadEvent.Created));
    assert.deepEqual(created.payload, { ids, count: 3000 });
    const kept = (await schema.query('SELECT COUNT(*) AS n FROM "cluster_messages"')) as Array<{ n: number }>;
    assert.equal(kept[0].n, 1, 'the body went through cluster_messages');
  });

  it('sends progress at most about once a second per task, the latest figures, and before the task ends', async () => {
    const before = received.length;
    for (let step = 1; step <= 20; step++) emitters.a.emit(DownloadEvent.Progress, { id: 7, percent: step * 5, speed: 1, downloadedBytes: step, totalBytes: 20, eta: 1 });
    emitters.a.emit(DownloadEvent.Succeeded, { id: 7 });
    await until('the success arrives', () => received.slice(before).find((event) => event.name === DownloadEvent.Succeeded));
    const forTask = received.slice(before).filter((event) => (event.payload as { id: number }).id === 7);
    assert.deepEqual(
      forTask.map((event) => event.name),
      [DownloadEvent.Progress, DownloadEvent.Succeeded],
      'one progress event (the last figures), then the success',
    );
    assert.equal((forTask[0].payload as { percent: number }).percent, 100);
  });

  it('routes a request to end a run to the node named, and wake-ups to every other node', async () => {
    busA.requestAbort('node-b', { id: 42, reason: 'delete' });
    busA.requestAbort('node-c', { id: 43, reason: 'client' });
    busA.wakeOthers();
    await until('the request arrives', () => (aborts.length > 0 && wakes > 0 ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(aborts, [{ id: 42, reason: 'delete' }], 'only the request for node b reached node b');
  });
});
