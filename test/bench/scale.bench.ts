import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OriginServer } from '../fixtures/origin-server.js';
import { createTestDatabase } from '../helpers/postgres-database.js';
import { SseRecorder } from '../helpers/sse-client.js';
import { BenchService } from './service-process.js';
import { LOOPBACK_ENV } from './timed-run.js';

const MiB = 1024 * 1024;
const NODE_COUNTS = [1, 2, 3];
const SLOTS = 2;
const FILES = 24;
const FILE_SIZE = 2 * MiB;
const PER_CONNECTION = 1 * MiB;
const CLAIM_SAMPLES = 100;
const CLAIM_FILE_SIZE = 16 * 1024;
/** Between two claim samples: the previous task's ending (writes, events to the other nodes) is over. */
const CLAIM_GAP_MS = 100;
const RATIO_TARGET = 2.5;
const CLAIM_P99_TARGET_MS = 50;
const DEADLINE_MS = 180_000;

interface TaskView {
  id: number;
  status: string;
  file: string | null;
  node: string | null;
  queuedAt: string | null;
  error: string | null;
}

interface Node {
  id: string;
  service: BenchService;
  events: SseRecorder;
}

const percentile = (sorted: number[], fraction: number) => sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)];
const ms = (value: number) => `${value.toFixed(value < 10 ? 1 : 0)} ms`;

async function post(node: Node, tasks: object[]): Promise<TaskView[]> {
  const response = await fetch(`${node.service.baseUrl}/api/downloads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tasks, startDownload: true }),
  });
  const answer = (await response.json()) as { data?: TaskView[] };
  if (!response.ok || !answer.data) throw new Error(`POST /api/downloads answered ${response.status}`);
  return answer.data;
}

async function task(node: Node, id: number): Promise<TaskView> {
  const answer = (await fetch(`${node.service.baseUrl}/api/downloads/${id}`).then((response) => response.json())) as { data: TaskView };
  return answer.data;
}

/** When an event for this task reached the SSE client of the node that ran it (every node forwards every event). */
function arrival(nodes: Node[], type: string, view: TaskView): number {
  const runner = nodes.find((node) => node.id === view.node);
  if (!runner) throw new Error(`task ${view.id} names node ${view.node}, not one of the bench's`);
  const event = runner.events.of(type, view.id)[0];
  if (!event) throw new Error(`node ${runner.id} sent no ${type} event for task ${view.id}`);
  return event.at;
}

/** Waits until the first node's SSE client has heard that every task succeeded (fails on a failed one). */
async function allSucceeded(nodes: Node[], ids: number[]): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  const watcher = nodes[0].events;
  while (Date.now() < deadline) {
    const failed = ids.find((id) => watcher.of('download-failed', id).length > 0);
    if (failed !== undefined) throw new Error(`task ${failed} failed: ${(await task(nodes[0], failed)).error}`);
    if (ids.every((id) => watcher.of('download-success', id).length > 0)) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`the tasks did not all succeed within ${DEADLINE_MS / 1000} s`);
}

interface ClusterFigures {
  nodes: number;
  wallMs: number;
  mibPerSecond: number;
  perNode: string;
  claimFromQueued: number[];
  claimFromAnswer: number[];
  claimFromCommit: number[];
}

/** `count` nodes on a fresh database: the throttled files at once, then tasks one at a time for the claim latency. */
async function runCluster(count: number, scratch: string, origin: OriginServer, bodies: Buffer[]): Promise<ClusterFigures> {
  const database = await createTestDatabase(`bench_scale_${count}`);
  const root = join(scratch, `nodes-${count}`);
  const downloads = join(root, 'shared-downloads');
  const nodes: Node[] = [];
  try {
    // one after another: the first runs the migrations, the others find the schema up to date
    for (let index = 0; index < count; index++) {
      const id = `bench-${index + 1}`;
      const service = new BenchService();
      nodes.push({ id, service, events: new SseRecorder() });
      await mkdir(join(root, id), { recursive: true });
      await service.start(root, {
        ...(LOOPBACK_ENV as Record<string, string>),
        DATABASE_URL: database.url,
        NODE_ID: id,
        DATA_DIR: join(root, id),
        DOWNLOAD_DIR: downloads,
        MAX_CONCURRENT_DOWNLOADS: String(SLOTS),
        DIRECT_CONNECTIONS: '1',
      });
    }
    for (const node of nodes) await node.events.open(`${node.service.baseUrl}/api/events`);

    // the throughput: every file in one POST to the first node; each node claims while it has a free slot
    const files = bodies.map((_, index) => ({ type: 'direct', url: origin.url(`/scale-${index}.bin`), name: `scale-${index}` }));
    const began = Date.now();
    const created = await post(nodes[0], files);
    const ids = created.map((view) => view.id);
    await allSucceeded(nodes, ids);
    const views = await Promise.all(ids.map((id) => task(nodes[0], id)));
    const finished = Math.max(...views.map((view) => arrival(nodes, 'download-success', view)));
    const wallMs = finished - began;
    for (const [index, view] of views.entries()) {
      if (view.status !== 'success' || !view.file) throw new Error(`task ${view.id} ended ${view.status}`);
      if (!(await readFile(view.file)).equals(bodies[index])) throw new Error(`task ${view.id} saved other bytes than the origin sent`);
    }
    const perNode = nodes.map((node) => views.filter((view) => view.node === node.id).length).join('/');

    // the claim latency: one task at a time, posted to each node in turn while every slot is free
    const claimFromQueued: number[] = [];
    const claimFromAnswer: number[] = [];
    const claimFromCommit: number[] = [];
    for (let sample = 0; sample < CLAIM_SAMPLES; sample++) {
      await new Promise((resolve) => setTimeout(resolve, CLAIM_GAP_MS));
      const receiver = nodes[sample % count];
      const [posted] = await post(receiver, [{ type: 'direct', url: origin.url(`/claim-${sample}.bin`), name: `claim-${count}-${sample}` }]);
      const answered = Date.now();
      const queuedAt = Date.parse(posted.queuedAt!);
      await allSucceeded(nodes, [posted.id]);
      const view = await task(nodes[0], posted.id);
      const startedAt = arrival(nodes, 'download-start', view);
      claimFromQueued.push(startedAt - queuedAt);
      claimFromAnswer.push(startedAt - answered);
      const create = receiver.events.events.find((event) => event.type === 'download-create' && (event.data.ids as unknown[]).map(String).includes(String(posted.id)));
      if (!create) throw new Error(`node ${receiver.id} sent no download-create event for task ${posted.id}`);
      claimFromCommit.push(startedAt - create.at);
    }
    claimFromQueued.sort((a, b) => a - b);
    claimFromAnswer.sort((a, b) => a - b);
    claimFromCommit.sort((a, b) => a - b);
    return { nodes: count, wallMs, mibPerSecond: (FILES * FILE_SIZE) / MiB / (wallMs / 1000), perNode, claimFromQueued, claimFromAnswer, claimFromCommit };
  } finally {
    for (const node of nodes) node.events.close();
    for (const node of nodes) await node.service.stop();
    await database.drop().catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  }
}

/**
 * Scale-out: 1, 2 and 3 nodes (each on a fresh PostgreSQL database, MAX_CONCURRENT_DOWNLOADS=2, DIRECT_CONNECTIONS=1)
 * download the same files, each response capped by the origin, so the aggregate can only grow with the slots; then
 * the claim latency, queued → started, with free slots.
 */
export async function runScaleBench(): Promise<string[]> {
  const title = `scale bench: ${FILES} files of ${FILE_SIZE / MiB} MiB at ${PER_CONNECTION / MiB} MiB/s per connection, ${SLOTS} slots a node, 1 connection a task, nodes on one PostgreSQL database`;
  if (!process.env.TEST_DATABASE_URL) {
    return [title, `  skipped: no PostgreSQL server${process.env.BENCH_POSTGRES_PROBLEM ? ` (${process.env.BENCH_POSTGRES_PROBLEM})` : ' (TEST_DATABASE_URL is not set: run it through `npm run bench`)'}`];
  }
  const scratch = await mkdtemp(join(tmpdir(), 'scale-bench-'));
  const origin = new OriginServer();
  const bodies = Array.from({ length: FILES }, () => randomBytes(FILE_SIZE));
  for (const [index, body] of bodies.entries()) origin.route(`/scale-${index}.bin`, { body, contentType: 'application/octet-stream', bytesPerSecond: PER_CONNECTION });
  for (let sample = 0; sample < CLAIM_SAMPLES; sample++) origin.route(`/claim-${sample}.bin`, { body: randomBytes(CLAIM_FILE_SIZE), contentType: 'application/octet-stream' });
  await origin.start();
  try {
    const figures: ClusterFigures[] = [];
    for (const count of NODE_COUNTS) figures.push(await runCluster(count, scratch, origin, bodies));
    const lines = [title];
    for (const figure of figures) {
      const limit = (figure.nodes * SLOTS * PER_CONNECTION) / MiB;
      lines.push(
        `  ${figure.nodes} node${figure.nodes > 1 ? 's' : ''} (${figure.nodes * SLOTS} slots): POST to all success ${ms(figure.wallMs)}, ${figure.mibPerSecond.toFixed(2)} MiB/s aggregate (limit ${limit.toFixed(0)} MiB/s, ${((figure.mibPerSecond / limit) * 100).toFixed(0)} %), tasks per node ${figure.perNode}`,
      );
    }
    const ratio = figures.at(-1)!.mibPerSecond / figures[0].mibPerSecond;
    lines.push(`  aggregate throughput, ${NODE_COUNTS.at(-1)} nodes ÷ 1 node: ${ratio.toFixed(2)}× (target ≥ ${RATIO_TARGET}×: ${ratio >= RATIO_TARGET ? 'met' : 'NOT MET'})`);
    lines.push(`  claim latency, queued → started with free slots (${CLAIM_SAMPLES} tasks posted one at a time, ${CLAIM_GAP_MS} ms apart, to each node in turn; from the task's stored queuedAt to its download-start event arriving on the SSE client of the node that ran it, no column records the claim):`);
    for (const figure of figures) {
      const p99 = percentile(figure.claimFromQueued, 0.99);
      lines.push(
        `    ${figure.nodes} node${figure.nodes > 1 ? 's' : ''}: p50 ${ms(percentile(figure.claimFromQueued, 0.5))}, p99 ${ms(p99)}, max ${ms(figure.claimFromQueued.at(-1)!)} (target p99 < ${CLAIM_P99_TARGET_MS} ms: ${p99 < CLAIM_P99_TARGET_MS ? 'met' : 'NOT MET'}); from the POST's answer: p50 ${ms(percentile(figure.claimFromAnswer, 0.5))}, p99 ${ms(percentile(figure.claimFromAnswer, 0.99))}; from its download-create event (row inserted) on the node posted to: p50 ${ms(percentile(figure.claimFromCommit, 0.5))}, p99 ${ms(percentile(figure.claimFromCommit, 0.99))}`,
      );
    }
    return lines;
  } finally {
    await origin.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}
