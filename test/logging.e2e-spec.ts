import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OriginServer } from './fixtures/origin-server.js';
import { callApi, waitFor } from './helpers/app-harness.js';
import { ServiceProcess } from './helpers/service-process.js';

const API_KEY = 'log-test-api-key-4f9c2e';
const COOKIE = 'SESSDATA=cookie-value-never-logged';
const AUTHORIZATION = 'Bearer origin-token-never-logged';
const QUERY_SECRET = 'signature-in-query-never-logged';

describe('service logs', () => {
  let origin: OriginServer;
  let service: ServiceProcess;
  let root: string;
  /** The service's output, a line each, as written */
  let rawLines: string[];
  let lines: Array<Record<string, any>>;
  let taskId: number;

  before(async () => {
    origin = new OriginServer().route('/files/a.bin', { body: randomBytes(128 * 1024) }).route('/files/missing.bin', { status: 404 });
    await origin.start();
    root = await mkdtemp(join(tmpdir(), 'mediago-logs-'));
    service = new ServiceProcess(root, { API_KEY, LOG_LEVEL: 'info' });
    await service.start();
    const auth = { authorization: `Bearer ${API_KEY}` };
    const created = await callApi<any>(service.baseUrl, 'POST', '/api/downloads', {
      tasks: [
        { type: 'direct', url: `${origin.url('/files/a.bin')}?sig=${QUERY_SECRET}`, name: 'a', headers: `Cookie: ${COOKIE}\nAuthorization: ${AUTHORIZATION}` },
        { type: 'direct', url: `${origin.url('/files/missing.bin')}?sig=${QUERY_SECRET}`, name: 'missing', headers: `Cookie: ${COOKIE}` },
      ],
      startDownload: true,
    }, auth);
    assert.equal(created.status, 200, created.text);
    taskId = created.body.data[0].id;
    const missingId = created.body.data[1].id;
    for (const id of [taskId, missingId]) {
      await waitFor(async () => {
        const { body } = await callApi<any>(service.baseUrl, 'GET', `/api/downloads/${id}?token=${API_KEY}`);
        return ['success', 'failed'].includes(body?.data?.status);
      }, 30_000, `task ${id} to end`);
    }
    // a request without the key, and one that names the key in the query
    await callApi(service.baseUrl, 'GET', '/api/downloads');
    await callApi(service.baseUrl, 'GET', `/api/downloads/${taskId}/logs?token=${API_KEY}`);
    await service.kill('SIGTERM');
    rawLines = service.output.split('\n').filter((line) => line.trim() !== '');
    lines = rawLines.map((line) => {
      try {
        return JSON.parse(line);
      } catch {
        assert.fail(`a log line that is not JSON: ${line}`);
      }
    });
  });

  after(async () => {
    await origin.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('writes only JSON lines with a level, an ISO time and a message when not on a terminal', () => {
    assert.ok(lines.length > 5);
    // JSON.parse keeps the last of two equal keys: the raw lines are checked for repeats
    for (const raw of rawLines) {
      const keys = topLevelKeys(raw);
      assert.equal(new Set(keys).size, keys.length, `a key written twice: ${raw}`);
    }
    for (const line of lines) {
      assert.equal(typeof line.level, 'number');
      assert.ok(!Number.isNaN(Date.parse(line.time)), JSON.stringify(line));
      assert.equal(typeof line.msg, 'string');
    }
  });

  it('gives every request one line with its id, method, route, status and duration', () => {
    const requests = lines.filter((line) => line.reqId !== undefined && line.status !== undefined);
    const listing = requests.find((line) => line.route === '/api/downloads/:id/logs');
    assert.ok(listing, 'the logs request is there');
    assert.equal(listing.method, 'GET');
    assert.equal(listing.status, 200);
    assert.equal(listing.path, `/api/downloads/${taskId}/logs`);
    assert.equal(typeof listing.durationMs, 'number');
    assert.match(listing.reqId, /^[0-9a-f-]{36}$/);
    assert.ok(requests.some((line) => line.route === '/api/downloads' && line.method === 'GET' && line.status === 401), 'the refused request too');
    assert.equal(new Set(requests.map((line) => line.reqId)).size, requests.length, 'one line per request');
  });

  it("tags each line of a task's work with its task id", () => {
    const taskLines = lines.filter((line) => line.taskId === taskId);
    assert.ok(taskLines.some((line) => /run started/.test(line.msg)), JSON.stringify(taskLines));
    assert.ok(taskLines.some((line) => /saved /.test(line.msg)));
  });

  it('never writes the API key, header credentials or query strings of origin URLs', () => {
    const text = service.output;
    for (const secret of [API_KEY, 'cookie-value-never-logged', 'origin-token-never-logged', QUERY_SECRET]) {
      assert.ok(!text.includes(secret), `the logs contain ${secret}`);
    }
  });
});

/** The keys of a compact JSON object's own members, in order, repeats kept (those of nested objects are not its own). */
function topLevelKeys(raw: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (let index = 0; index < raw.length; index++) {
    const char = raw[index];
    if (char === '"') {
      let end = index + 1;
      while (raw[end] !== '"') end += raw[end] === '\\' ? 2 : 1;
      if (depth === 1 && raw[end + 1] === ':') keys.push(raw.slice(index + 1, end));
      index = end;
    } else if (char === '{' || char === '[') depth++;
    else if (char === '}' || char === ']') depth--;
  }
  return keys;
}
