// Several service processes (nodes) sharing one real PostgreSQL database and one DOWNLOAD_DIR: every task runs
// once, a killed or frozen node's tasks are taken over, events and commands cross nodes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OriginServer } from './fixtures/origin-server.js';
import { waitFor } from './helpers/app-harness.js';
import { createTestDatabase } from './helpers/postgres-database.js';
import { type ServiceProcess, clusterNode } from './helpers/service-process.js';
import { SseRecorder } from './helpers/sse-client.js';

const KIB = 1024;

interface TaskView {
  id: number;
  name: string;
  type: string;
  status: string;
  file: string | null;
  node: string | null;
  error: string | null;
}

async function allTasks(node: ServiceProcess): Promise<TaskView[]> {
  const tasks: TaskView[] = [];
  for (let current = 1; ; current++) {
    const answer = await node.api<{ total: number; list: TaskView[] }>('GET', `/api/downloads?pageSize=100&current=${current}`);
    assert.equal(answer.status, 200, answer.text);
    tasks.push(...answer.body.data.list);
    if (tasks.length >= answer.body.data.total || answer.body.data.list.length === 0) return tasks;
  }
}

describe('several nodes on one PostgreSQL database', { timeout: 600_000 }, () => {
  let root: string;
  const origin = new OriginServer();
  const files = new Map<string, Buffer>();
  const started: ServiceProcess[] = [];
  const databases: Array<{ drop(): Promise<void> }> = [];

  const serveFile = (name: string, size: number, bytesPerSecond: number) => {
    const body = randomBytes(size);
    files.set(name, body);
    origin.route(`/${name}`, { body, contentType: 'application/octet-stream', bytesPerSecond, etag: `"${name}"` });
  };
  const database = async (label: string) => {
    const created = await createTestDatabase(label);
    databases.push(created);
    return created.url;
  };
  const startNodes = async (nodes: ServiceProcess[]) => {
    started.push(...nodes);
    // one after another: the first runs the migrations, the others find the schema up to date
    for (const node of nodes) await node.start();
    return nodes;
  };

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'mediago-cluster-'));
    // an HLS stream made by ffmpeg now: 4 one-second segments
    const hls = join(root, 'hls-source');
    mkdirSync(hls);
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10:duration=4', '-c:v', 'libx264', '-g', '10', '-f', 'hls', '-hls_time', '1', '-hls_list_size', '0', '-hls_segment_filename', join(hls, 'seg%d.ts'), join(hls, 'index.m3u8')]);
    for (let stream = 0; stream < 10; stream++) {
      for (const file of readdirSync(hls)) {
        origin.route(`/hls-${stream}/${file}`, { body: readFileSync(join(hls, file)), contentType: file.endsWith('.m3u8') ? 'application/vnd.apple.mpegurl' : 'video/mp2t', latencyMs: 30 });
      }
    }
    for (let index = 0; index < 50; index++) serveFile(`file-${index}.bin`, 256 * KIB, 1024 * KIB);
    for (let index = 0; index < 6; index++) serveFile(`slow-${index}.bin`, 3 * 1024 * KIB, 512 * KIB);
    for (let index = 0; index < 4; index++) serveFile(`stoppable-${index}.bin`, 8 * 1024 * KIB, 256 * KIB);
    await origin.start();
  });

  after(async () => {
    for (const node of started) if (node.alive) await node.kill('SIGKILL').catch(() => undefined);
    await origin.stop();
    for (const created of databases) await created.drop().catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  });

  it('three nodes run 60 tasks of mixed types: each succeeds exactly once, byte-exact, and an SSE client on one node sees the others', async () => {
    const url = await database('sixty');
    const [a, b, c] = await startNodes([clusterNode(root, url, 'node-a'), clusterNode(root, url, 'node-b'), clusterNode(root, url, 'node-c')]);
    const health = await a.api('GET', '/healthy');
    assert.deepEqual([health.body.data.node, health.body.data.database], ['node-a', 'postgres']);
    const sse = new SseRecorder();
    await sse.open(`${a.baseUrl}/api/events`);
    try {
      const tasks = [
        ...Array.from({ length: 40 }, (_, index) => ({ type: 'direct', url: origin.url(`/file-${index}.bin`), name: `direct-${index}`, folder: 'sixty' })),
        ...Array.from({ length: 10 }, (_, index) => ({ type: 'mediago', url: origin.url(`/file-${40 + index}.bin`), name: `mediago-${index}`, folder: 'sixty' })),
        ...Array.from({ length: 10 }, (_, index) => ({ type: 'm3u8', url: origin.url(`/hls-${index}/index.m3u8`), name: `hls-${index}`, folder: 'sixty' })),
      ];
      const created = await b.api<TaskView[]>('POST', '/api/downloads', { tasks, startDownload: true });
      assert.equal(created.status, 200, created.text);
      const ids = created.body.data.map((task) => task.id);
      const done = await waitFor(
        async () => {
          const list = (await allTasks(c)).filter((task) => ids.includes(task.id));
          const failed = list.find((task) => task.status === 'failed');
          if (failed) assert.fail(`task ${failed.id} failed: ${failed.error}`);
          return list.every((task) => task.status === 'success') ? list : null;
        },
        300_000,
        'all 60 tasks to succeed',
      );
      for (const task of done.filter((candidate) => candidate.type !== 'm3u8')) {
        const source = `file-${task.type === 'direct' ? task.name.slice('direct-'.length) : 40 + Number(task.name.slice('mediago-'.length))}.bin`;
        assert.ok(readFileSync(task.file!).equals(files.get(source)!), `${task.name} is byte-exact`);
        // exactly once: a second run, on any node, would have the origin send the file again
        assert.ok(origin.sentBytes(`/${source}`) < 2 * files.get(source)!.length, `${source} was downloaded once (${origin.sentBytes(`/${source}`)} bytes sent)`);
      }
      for (const task of done.filter((candidate) => candidate.type === 'm3u8')) {
        const stream = task.name.slice('hls-'.length);
        for (let segment = 0; segment < 4; segment++) assert.equal(origin.hits(`/hls-${stream}/seg${segment}.ts`), 1, `segment ${segment} of ${task.name} was fetched once`);
        const probe = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', task.file!], { encoding: 'utf8' });
        assert.ok(Number(probe) > 3.5, `${task.name} holds the whole stream (${probe.trim()} s)`);
      }
      const nodes = new Set(done.map((task) => task.node));
      assert.ok(nodes.size >= 2 && [...nodes].every((node) => ['node-a', 'node-b', 'node-c'].includes(node!)), `the work was shared: ${[...nodes].join(', ')}`);
      // node a's client heard every task start and succeed once, those run by b and c included
      for (const id of ids) {
        assert.equal(sse.of('download-start', id).length, 1, `one download-start for task ${id}`);
        assert.equal(sse.of('download-success', id).length, 1, `one download-success for task ${id}`);
      }
      const elsewhere = done.filter((task) => task.node !== 'node-a').map((task) => task.id);
      assert.ok(elsewhere.length > 0);
      assert.ok(
        elsewhere.some((id) => sse.of('download-progress', id).length > 0),
        'progress of tasks run by other nodes reached node a',
      );
    } finally {
      sse.close();
      for (const node of [a, b, c]) await node.kill('SIGTERM');
    }
  });

  it('a stop through one node ends a task running on another, and the owner ends the run itself', async (t) => {
    const url = await database('stop');
    const [a, c] = await startNodes([clusterNode(root, url, 'stop-a', { MAX_CONCURRENT_DOWNLOADS: '1' }), clusterNode(root, url, 'stop-c', { MAX_CONCURRENT_DOWNLOADS: '1' })]);
    try {
      const created = await a.api<TaskView[]>('POST', '/api/downloads', {
        tasks: [0, 1].map((index) => ({ type: 'direct', url: origin.url(`/stoppable-${index}.bin`), name: `stoppable-${index}`, folder: 'stop' })),
        startDownload: true,
      });
      const ids = created.body.data.map((task) => task.id);
      const onC = await waitFor(async () => (await allTasks(a)).find((task) => ids.includes(task.id) && task.status === 'downloading' && task.node === 'stop-c'), 60_000, 'a task to run on node c');
      const began = Date.now();
      const stop = await a.api('POST', `/api/downloads/${onC.id}/stop`);
      const took = Date.now() - began;
      assert.equal(stop.status, 200, stop.text);
      const stopped = (await allTasks(c)).find((task) => task.id === onC.id)!;
      assert.equal(stopped.status, 'stopped');
      t.diagnostic(`the stop through node a answered after ${took} ms`);
      // node c ended the run: node a never had to end the lease itself
      assert.doesNotMatch(a.output, /did not end the run of task/);
    } finally {
      for (const node of [a, c]) await node.kill('SIGTERM');
    }
  });

  it('a killed node’s tasks are taken over after its lease and finish byte-exact; a frozen node that wakes writes nothing to them', async () => {
    const url = await database('takeover');
    const [a, b] = await startNodes([clusterNode(root, url, 'take-a', { MAX_CONCURRENT_DOWNLOADS: '3' }), clusterNode(root, url, 'take-b', { MAX_CONCURRENT_DOWNLOADS: '3' })]);
    const frozen = clusterNode(root, url, 'take-f', { MAX_CONCURRENT_DOWNLOADS: '3' });
    try {
      const created = await b.api<TaskView[]>('POST', '/api/downloads', {
        tasks: Array.from({ length: 6 }, (_, index) => ({ type: 'direct', url: origin.url(`/slow-${index}.bin`), name: `slow-${index}`, folder: 'takeover' })),
        startDownload: true,
      });
      const ids = created.body.data.map((task) => task.id);
      const runningOnA = await waitFor(
        async () => {
          const onA = (await allTasks(b)).filter((task) => ids.includes(task.id) && task.status === 'downloading' && task.node === 'take-a');
          return onA.length > 0 ? onA : null;
        },
        60_000,
        'node a to run some of the tasks',
      );
      await a.kill('SIGKILL');
      const done = await waitFor(
        async () => {
          const list = (await allTasks(b)).filter((task) => ids.includes(task.id));
          return list.every((task) => task.status === 'success') ? list : null;
        },
        180_000,
        'node b to finish every task, those of the killed node included',
      );
      for (const task of done) assert.ok(readFileSync(task.file!).equals(files.get(`${task.name}.bin`)!), `${task.name} is byte-exact`);
      for (const task of runningOnA) assert.equal(done.find((candidate) => candidate.id === task.id)!.node, 'take-b', `task ${task.id} was taken over by node b`);

      // the killed node comes back late: it finds nothing of its own to recover and writes nothing
      const beforeRestart = await allTasks(b);
      const restarted = clusterNode(root, url, 'take-a', { MAX_CONCURRENT_DOWNLOADS: '3' });
      await startNodes([restarted]);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      assert.deepEqual(await allTasks(b), beforeRestart, 'the restarted node changed no task');
      await restarted.kill('SIGTERM');

      // a node frozen mid-download (SIGSTOP) loses its lease; once it wakes, its writes are refused
      const more = await b.api<TaskView[]>('POST', '/api/downloads', {
        tasks: [3, 4, 5].map((index) => ({ type: 'direct', url: origin.url(`/slow-${index}.bin`), name: `again-${index}`, folder: 'frozen' })),
        startDownload: false,
      });
      await b.kill('SIGTERM');
      await startNodes([frozen]);
      for (const task of more.body.data) await frozen.api('POST', `/api/downloads/${task.id}/start`);
      await waitFor(async () => (await allTasks(frozen)).filter((task) => task.node === 'take-f' && task.status === 'downloading').length === 3, 60_000, 'the three to run on the node about to freeze');
      frozen.child!.kill('SIGSTOP');
      const rescuer = clusterNode(root, url, 'take-r', { MAX_CONCURRENT_DOWNLOADS: '3' });
      await startNodes([rescuer]);
      const rescued = await waitFor(
        async () => {
          const list = (await allTasks(rescuer)).filter((task) => more.body.data.some((created) => created.id === task.id));
          return list.every((task) => task.status === 'success') ? list : null;
        },
        180_000,
        'the rescuing node to finish the frozen node’s tasks',
      );
      frozen.child!.kill('SIGCONT');
      // the frozen node finds its leases gone at its next heartbeat and stops; give it time to try to write
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const final = (await allTasks(rescuer)).filter((task) => rescued.some((done) => done.id === task.id));
      assert.deepEqual(final, rescued, 'the node that woke up wrote nothing to the tasks taken from it');
      for (const task of final) {
        assert.equal(task.node, 'take-r');
        assert.ok(readFileSync(task.file!).equals(files.get(`slow-${task.name.slice('again-'.length)}.bin`)!), `${task.name} is byte-exact`);
      }
      const frozenLogs = readdirSync(join(root, 'take-f', 'logs')).map((file) => readFileSync(join(root, 'take-f', 'logs', file), 'utf8')).join('\n');
      assert.match(`${frozen.output}\n${frozenLogs}`, /lost its lease|lease had been taken over/, 'the node that woke up learned that its leases were gone');
      await rescuer.kill('SIGTERM');
    } finally {
      for (const node of [a, b, frozen]) if (node.alive) await node.kill('SIGKILL').catch(() => undefined);
    }
  });

  it('fails, saying how to get one, when no PostgreSQL server can be had (it never skips)', async () => {
    const saved = process.env.TEST_DATABASE_URL;
    delete process.env.TEST_DATABASE_URL;
    try {
      await assert.rejects(createTestDatabase('none'), /TEST_DATABASE_URL is not set: run the specs through `npm test`/);
    } finally {
      process.env.TEST_DATABASE_URL = saved;
    }
  });
});
