import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OriginServer } from './fixtures/origin-server.js';
import { type TestApp, startTestApp, waitFor, waitForStatus } from './helpers/app-harness.js';

/** A task as a client would post it; fields override the defaults. */
function aTask(fields: Record<string, unknown> = {}) {
  return { type: 'direct', url: 'http://127.0.0.1:9/file.bin', ...fields };
}

function assertError(answer: { status: number; body: any }, status: number, mentions?: RegExp, errorCode?: string) {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  assert.equal(answer.body.success, false);
  assert.match(answer.body.errorCode ?? '', /^[a-z]+(_[a-z]+)*$/, 'every error carries a snake_case errorCode');
  if (errorCode) assert.equal(answer.body.errorCode, errorCode);
  assert.equal(answer.body.code, status);
  assert.equal(answer.body.data, null);
  assert.equal(typeof answer.body.message, 'string');
  if (mentions) assert.match(answer.body.message, mentions);
  assert.doesNotMatch(answer.body.message, /\bat .+\.js:\d+|SQLITE|SELECT |\/build\/|node_modules|\/work\/|\/src\//);
  assert.equal('stack' in answer.body, false);
}

/** A nested JSON text `depth` levels deep, built as text (no recursion on our side either). */
function nested(depth: number, open: string, close: string, inner = '1'): string {
  return open.repeat(depth) + inner + close.repeat(depth);
}

describe('the Download API contract', () => {
  let test: TestApp;

  before(async () => {
    test = await startTestApp();
  });

  after(async () => {
    await test.close();
  });

  describe('envelope and framework errors', () => {
    it('wraps a success in {success, code 0, message ok, data}', async () => {
      const answer = await test.api('GET', '/api/downloads');
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.body, { success: true, code: 0, message: 'ok', data: { total: 0, list: [] } });
    });

    it('answers /healthy open with status ok', async () => {
      const answer = await test.api('GET', '/healthy');
      assert.equal(answer.status, 200);
      assert.equal(answer.body.success, true);
      assert.equal(answer.body.data.status, 'ok');
      assert.ok(answer.body.data.types.includes('direct'));
    });

    it('wraps an unknown route in a 404 envelope', async () => {
      assertError(await test.api('GET', '/api/nothing-here'), 404, undefined, 'route_not_found');
      assertError(await test.api('DELETE', '/api/downloads'), 404, undefined, 'route_not_found');
    });

    it('wraps malformed JSON in a 400 envelope', async () => {
      assertError(await test.api('POST', '/api/downloads', '{"tasks": [', { 'content-type': 'application/json' }), 400, /JSON/, 'malformed_body');
      assertError(await test.api('POST', '/api/downloads', '{"__proto__": {"x": 1}, "tasks": []}', { 'content-type': 'application/json' }), 400, undefined, 'malformed_body');
    });

    it('wraps a malformed URL escape in a 400 envelope', async () => {
      assertError(await test.api('GET', '/api/downloads/%E0%A4%A'), 400, undefined, 'malformed_body');
    });

    it('refuses a body over the limit with a 413 envelope', async () => {
      const huge = JSON.stringify({ tasks: [aTask({ name: 'x'.repeat(2 * 1024 * 1024) })] });
      assertError(await test.api('POST', '/api/downloads', huge), 413, /too large/, 'payload_too_large');
      const justOver = JSON.stringify({ tasks: [aTask()], pad: ' '.repeat(test.config.bodyLimitBytes) });
      assertError(await test.api('PUT', '/api/downloads/1/live', justOver), 413, /too large/, 'payload_too_large');
    });

    it('answers requests the HTTP parser refuses in the envelope too: headers too large, not HTTP', async () => {
      const raw = (request: string) =>
        new Promise<string>((resolve, reject) => {
          const socket = connect(Number(new URL(test.baseUrl).port), '127.0.0.1');
          let text = '';
          socket.setTimeout(10_000, () => socket.destroy(new Error('no answer within 10 s')));
          socket.on('data', (chunk) => (text += chunk.toString('latin1')));
          socket.on('close', () => resolve(text));
          socket.on('error', (error) => (text ? resolve(text) : reject(error)));
          socket.write(request);
        });
      const parse = (text: string) => ({ status: Number(text.split(' ')[1]), body: JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) });
      const huge = parse(await raw(`GET /api/downloads HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${'a'.repeat(64 * 1024)}\r\n\r\n`));
      assertError(huge, 431, /headers are too large/, 'headers_too_large');
      const garbage = parse(await raw('NOT HTTP AT ALL\r\n\r\n'));
      assertError(garbage, 400, /not valid HTTP/, 'malformed_request');
    });

    it('answers a body that is not JSON with an errorCode', async () => {
      assertError(await test.api('POST', '/api/downloads', 'tasks=1', { 'content-type': 'text/csv' }), 415, undefined);
    });

    it('gives no CORS access to an origin that CORS_ORIGINS does not list (the default lists none)', async () => {
      const response = await fetch(`${test.baseUrl}/api/downloads`, {
        method: 'OPTIONS',
        headers: { origin: 'http://example.test', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'x-api-key' },
      });
      assert.equal(response.headers.get('access-control-allow-origin'), null);
    });

    it('serves the OpenAPI document with every route', async () => {
      const response = await fetch(`${test.baseUrl}/docs-json`);
      assert.equal(response.status, 200);
      const document = (await response.json()) as { paths: Record<string, Record<string, unknown>> };
      for (const path of ['/api/downloads', '/api/downloads/active', '/api/downloads/folders', '/api/downloads/export', '/api/downloads/{id}', '/api/downloads/{id}/logs', '/api/downloads/{id}/start', '/api/downloads/{id}/stop', '/api/downloads/{id}/live', '/api/downloads/status', '/api/events', '/healthy']) {
        assert.ok(document.paths[path], `OpenAPI lacks ${path}`);
      }
      const ui = await fetch(`${test.baseUrl}/docs`);
      assert.equal(ui.status, 200);
      assert.match(await ui.text(), /swagger/i);
    });
  });

  describe('liberal requests (MediaGo clients as they are)', () => {
    const json = { 'content-type': 'application/json' };

    it('treats Content-Type: application/json with an empty body as no body on stop, start, delete and status', async () => {
      const [task] = (await test.api('POST', '/api/downloads', { tasks: [aTask()] })).body.data;
      for (const body of ['', '  \n']) {
        const stopped = await test.api('POST', `/api/downloads/${task.id}/stop`, body, json);
        assert.equal(stopped.status, 200, stopped.text);
        assert.deepEqual(stopped.body.data, {});
      }
      const started = await test.api('POST', `/api/downloads/${task.id}/start`, '', json);
      assert.equal(started.status, 200, started.text);
      assert.equal(started.body.data.localPath, test.config.downloadDir);
      await test.api('POST', `/api/downloads/${task.id}/stop`, '', json);
      assertError(await test.api('POST', '/api/downloads', '', json), 400, /tasks/, 'validation_failed');
      assertError(await test.api('PUT', `/api/downloads/${task.id}/live`, '', json), 400, /isLive/, 'validation_failed');
      const removed = await test.api('DELETE', `/api/downloads/${task.id}`, '', json);
      assert.equal(removed.status, 200, removed.text);
      assertError(await test.api('DELETE', `/api/downloads/${task.id}`, '', json), 404, undefined, 'download_not_found');
    });

    it('ignores a cache-buster and other unknown query parameters on every read', async () => {
      const [task] = (await test.api('POST', '/api/downloads', { tasks: [aTask()] })).body.data;
      for (const path of ['/api/downloads', '/api/downloads/active', '/api/downloads/folders', `/api/downloads/${task.id}`, `/api/downloads/${task.id}/logs`, '/api/downloads/export']) {
        const answer = await test.api('GET', `${path}?_=1700000000&sort=name`);
        assert.equal(answer.status, 200, `${path}: ${answer.text}`);
      }
      const page = await test.api('GET', '/api/downloads?_=1700000000&pageSize=1');
      assert.equal(page.body.data.list.length, 1, 'known parameters still apply');
      assertError(await test.api('GET', '/api/downloads?_=1&pageSize=500'), 400, /pageSize/, 'validation_failed');
      const removed = await test.api('DELETE', `/api/downloads/${task.id}?_=1700000000`);
      assert.equal(removed.status, 200, removed.text);
    });

    it('ignores unknown body fields, and still refuses a known field of the wrong type naming it', async () => {
      const created = await test.api('POST', '/api/downloads', { tasks: [aTask({ colour: 'red', id: 'x1' })], startDownload: false, source: 'extension' });
      assert.equal(created.status, 200, created.text);
      const task = created.body.data[0];
      assert.equal('colour' in task, false);
      assert.equal((await test.api('PUT', `/api/downloads/${task.id}`, { name: 'Kept', status: 'success' })).body.data.status, 'waiting');
      assert.equal((await test.api('PUT', `/api/downloads/${task.id}/live`, { isLive: true, extra: 1 })).status, 200);
      const wrong = await test.api('POST', '/api/downloads', { tasks: [aTask({ colour: 'red', isLive: 'yes' })], extra: 1 });
      assertError(wrong, 400, /tasks\[0\]\.isLive/, 'validation_failed');
      assert.deepEqual(wrong.body.fields, [{ path: 'tasks[0].isLive', message: 'tasks[0].isLive must be a boolean value' }]);
    });

    it('lists each field at fault in fields, beside errorCode validation_failed', async () => {
      const answer = await test.api('POST', '/api/downloads', { tasks: [{ type: 'nope', url: 'nope' }, aTask({ folder: '../x' })], startDownload: 'yes' });
      assertError(answer, 400, undefined, 'validation_failed');
      const paths = answer.body.fields!.map((field: { path: string }) => field.path);
      assert.deepEqual(new Set(paths), new Set(['tasks[0].type', 'tasks[0].url', 'tasks[1].folder', 'startDownload']));
      for (const field of answer.body.fields!) {
        assert.equal(typeof field.message, 'string');
        assert.ok(answer.body.message.includes(field.message), field.message);
      }
      const [task] = (await test.api('POST', '/api/downloads', { tasks: [aTask()] })).body.data;
      const badUrl = await test.api('PUT', `/api/downloads/${task.id}`, { url: 'ftp://a.test/x' });
      assertError(badUrl, 400, /url/, 'validation_failed');
      assert.deepEqual(badUrl.body.fields!.map((field: { path: string }) => field.path), ['url']);
      const query = await test.api('GET', '/api/downloads?current=0');
      assert.deepEqual(query.body.fields!.map((field: { path: string }) => field.path), ['current']);
    });

    for (const [what, text] of [
      ['10000-deep arrays', nested(10_000, '[', ']')],
      ['10000-deep objects', nested(10_000, '{"a":', '}')],
      ['deep arrays inside a task', `{"tasks":[{"type":"direct","url":"http://127.0.0.1:9/x","headers":${nested(10_000, '[', ']', '"A: 1"')}}]}`],
    ] as const) {
      it(`refuses ${what} with a 400 malformed_body, on create, start and status`, async () => {
        for (const [method, path] of [['POST', '/api/downloads'], ['POST', '/api/downloads/1/start'], ['PUT', '/api/downloads/status']]) {
          assertError(await test.api(method, path, text, json), 400, /nested more than 32 levels/, 'malformed_body');
        }
      });
    }

    it('answers a JSON body of the wrong shape (array, string, number, null) with an envelope, never a 5xx', async () => {
      const [task] = (await test.api('POST', '/api/downloads', { tasks: [aTask()] })).body.data;
      // start on an unknown id: the body is judged first, and nothing runs (a run would fail and change other tests' lists)
      const routes: Array<[string, string]> = [['POST', '/api/downloads'], ['POST', '/api/downloads/999999/start'], ['PUT', `/api/downloads/${task.id}`], ['PUT', `/api/downloads/${task.id}/live`], ['PUT', '/api/downloads/status']];
      for (const [method, path] of routes) {
        for (const body of ['[]', '[1,2]', '"text"', '42', 'null', 'true', '{"tasks":{"0":{"type":"direct"}}}']) {
          const answer = await test.api(method, path, body, json);
          assert.ok(answer.status < 500, `${method} ${path} ${body}: ${answer.text}`);
          assert.equal(typeof answer.body?.success, 'boolean', `${method} ${path} ${body}: ${answer.text}`);
          if (answer.status >= 400) assertError(answer, answer.status, undefined, answer.status === 404 ? 'download_not_found' : 'validation_failed');
        }
      }
    });

    it('reads a body nested up to the limit and judges it like any other', async () => {
      const deepHeaders = `{"tasks":[{"type":"direct","url":"http://127.0.0.1:9/x","headers":${nested(29, '[', ']', '"A: 1"')}}]}`;
      assertError(await test.api('POST', '/api/downloads', deepHeaders, json), 400, /tasks\[0\]\.headers/, 'validation_failed');
      const brackets = await test.api('POST', '/api/downloads', { tasks: [aTask({ name: '[[[[{{{{'.repeat(20) })] });
      assert.equal(brackets.status, 200, 'brackets inside strings do not count as depth');
    });

    it('refuses 1001 tasks naming tasks, and a list as long as the body limit allows, quickly', async () => {
      const over = await test.api('POST', '/api/downloads', { tasks: Array.from({ length: 1001 }, () => aTask()) });
      assertError(over, 400, /tasks must contain no more than 1000/, 'validation_failed');
      assert.deepEqual(over.body.fields!.map((field: { path: string }) => field.path), ['tasks']);
      const item = JSON.stringify({ type: 'direct', url: 'http://a.b/c' });
      const count = Math.floor((test.config.bodyLimitBytes - 20) / (item.length + 1));
      const startedAt = Date.now();
      const many = await test.api('POST', '/api/downloads', `{"tasks":[${Array(count).fill(item).join(',')}]}`, json);
      assertError(many, 400, /no more than 1000/, 'validation_failed');
      assert.ok(Date.now() - startedAt < 15_000, `${count} items took ${Date.now() - startedAt} ms`);
      assert.equal((await test.api('GET', '/healthy')).status, 200);
    });
  });

  describe('POST /api/downloads', () => {
    it('creates tasks in the order given, idle when startDownload is absent', async () => {
      const answer = await test.api('POST', '/api/downloads', {
        tasks: [aTask({ url: 'http://127.0.0.1:9/a/first.mp4', name: 'First' }), aTask({ url: 'http://127.0.0.1:9/b/second.zip?x=1', folder: 'sub/dir' })],
      });
      assert.equal(answer.status, 200);
      const [first, second] = answer.body.data;
      assert.equal(typeof first.id, 'number');
      assert.ok(second.id > first.id);
      assert.equal(first.name, 'First');
      assert.equal(second.name, 'second', 'a missing name comes from the URL');
      assert.equal(first.status, 'waiting');
      assert.equal(first.folder, '');
      assert.equal(first.headers, '');
      assert.equal(second.folder, 'sub/dir');
      assert.equal(first.file, null);
      assert.equal(first.isLive, false);
      assert.equal(first.localPath, test.config.downloadDir);
      assert.equal(first.deleteSegments, true);
      assert.equal(first.error, null);
      assert.match(first.createdDate, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      for (const key of ['percent', 'speed', 'downloadedBytes', 'totalBytes', 'eta']) assert.ok(key in first, key);
    });

    it('accepts headers as lines, as a JSON array, and as an object, and stores them as lines', async () => {
      const forms = ['User-Agent: UA\nReferer: https://r.test/', ['User-Agent: UA', 'Referer: https://r.test/'], { 'User-Agent': 'UA', Referer: 'https://r.test/' }, '{"User-Agent":"UA","Referer":"https://r.test/"}'];
      for (const headers of forms) {
        const answer = await test.api('POST', '/api/downloads', { tasks: [aTask({ headers })] });
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        assert.equal(answer.body.data[0].headers, 'User-Agent: UA\nReferer: https://r.test/');
      }
    });

    it('accepts a bare BV id for bilibili and refuses it for other types', async () => {
      assert.equal((await test.api('POST', '/api/downloads', { tasks: [{ type: 'bilibili', url: 'BV17x411w7KC' }] })).status, 200);
      assertError(await test.api('POST', '/api/downloads', { tasks: [{ type: 'direct', url: 'BV17x411w7KC' }] }), 400, /tasks\[0\]\.url/);
    });

    const badBodies: Array<[string, unknown, RegExp]> = [
      ['no tasks', { startDownload: true }, /tasks/],
      ['empty tasks', { tasks: [] }, /tasks/],
      ['over 1000 tasks', { tasks: Array.from({ length: 1001 }, () => aTask()) }, /tasks/],
      ['a missing type', { tasks: [{ url: 'http://a.test/x' }] }, /tasks\[0\]\.type/],
      ['an unknown type', { tasks: [aTask({ type: 'torrent' })] }, /tasks\[0\]\.type must be one of/],
      ['a missing url', { tasks: [{ type: 'direct' }] }, /tasks\[0\]\.url/],
      ['an ftp url', { tasks: [aTask({ url: 'ftp://a.test/x' })] }, /tasks\[0\]\.url must use http/],
      ['a non-boolean startDownload', { tasks: [aTask()], startDownload: 'yes' }, /startDownload/],
      ['a non-boolean isLive', { tasks: [aTask({ isLive: 1 })] }, /tasks\[0\]\.isLive/],
      ['an absolute folder', { tasks: [aTask({ folder: '/etc' })] }, /tasks\[0\]\.folder must be a relative/],
      ['a Windows absolute folder', { tasks: [aTask({ folder: 'C:\\Windows' })] }, /tasks\[0\]\.folder/],
      ['a .. folder', { tasks: [aTask({ folder: 'a/../../etc' })] }, /tasks\[0\]\.folder must not contain "\.\."/],
      ['a NUL in the folder', { tasks: [aTask({ folder: 'a\u0000b' })] }, /tasks\[0\]\.folder/],
      ['a NUL in the name', { tasks: [aTask({ name: 'a\u0000b' })] }, /tasks\[0\]\.name/],
      ['a header line without a colon', { tasks: [aTask({ headers: 'User-Agent UA' })] }, /tasks\[0\]\.headers/],
      ['a CR/LF inside a header value', { tasks: [aTask({ headers: { 'X-A': 'one\r\nX-B: two' } })] }, /tasks\[0\]\.headers/],
    ];
    for (const [what, body, mentions] of badBodies) {
      it(`answers 400 naming the field for ${what}`, async () => {
        assertError(await test.api('POST', '/api/downloads', body), 400, mentions);
      });
    }

    it('lists every field error in one message', async () => {
      const answer = await test.api('POST', '/api/downloads', { tasks: [{ type: 'nope', url: 'nope' }, aTask({ folder: '../x' })] });
      assertError(answer, 400);
      assert.match(answer.body.message, /tasks\[0\]\.type/);
      assert.match(answer.body.message, /tasks\[0\]\.url/);
      assert.match(answer.body.message, /tasks\[1\]\.folder/);
    });

    it('makes hostile names safe and keeps them inside the download directory', async () => {
      const answer = await test.api('POST', '/api/downloads', {
        tasks: [aTask({ name: '../../etc/passwd' }), aTask({ name: 'CON' }), aTask({ name: 'a<b>c:d"e|f?g*h' }), aTask({ name: '...' })],
      });
      assert.equal(answer.status, 200);
      const names = answer.body.data.map((task: { name: string }) => task.name);
      assert.equal(names[0], '_.._etc_passwd');
      assert.equal(names[1], '_CON');
      assert.equal(names[2], 'a_b_c_d_e_f_g_h');
      assert.equal(names[3], 'download');
      for (const name of names) assert.doesNotMatch(name, /[/\\]/);
    });
  });

  describe('reading tasks', () => {
    let ids: number[];

    before(async () => {
      const created = await test.api('POST', '/api/downloads', {
        tasks: [aTask({ name: 'r1', folder: 'alpha' }), aTask({ name: 'r2', folder: 'beta' }), aTask({ name: 'r3', folder: 'alpha' })],
      });
      ids = created.body.data.map((task: { id: number }) => task.id);
      await test.api('PUT', '/api/downloads/status', { ids: [ids[0]], status: 'success' });
      await test.api('PUT', '/api/downloads/status', { ids: [ids[1]], status: 'failed' });
    });

    it('pages newest first with total', async () => {
      const answer = await test.api('GET', '/api/downloads?current=1&pageSize=2');
      assert.equal(answer.status, 200);
      assert.equal(answer.body.data.list.length, 2);
      assert.ok(answer.body.data.total >= 3);
      assert.ok(answer.body.data.list[0].id > answer.body.data.list[1].id);
      const second = await test.api('GET', '/api/downloads?current=2&pageSize=2');
      assert.ok(second.body.data.list[0].id < answer.body.data.list[1].id);
    });

    it('filters by status, done and list', async () => {
      const done = await test.api('GET', '/api/downloads?filter=done&pageSize=100');
      assert.ok(done.body.data.list.every((task: { status: string }) => task.status === 'success'));
      assert.ok(done.body.data.list.some((task: { id: number }) => task.id === ids[0]));
      const success = await test.api('GET', '/api/downloads?filter=success&pageSize=100');
      assert.equal(success.body.data.total, done.body.data.total);
      const list = await test.api('GET', '/api/downloads?filter=list&pageSize=100');
      assert.ok(list.body.data.list.every((task: { status: string }) => task.status !== 'success'));
      const failed = await test.api('GET', '/api/downloads?filter=failed');
      assert.deepEqual(failed.body.data.list.map((task: { id: number }) => task.id), [ids[1]]);
    });

    it('filters by localPath', async () => {
      const inside = await test.api('GET', `/api/downloads?localPath=${encodeURIComponent(test.config.downloadDir)}&pageSize=100`);
      assert.ok(inside.body.data.total >= 3);
      const elsewhere = await test.api('GET', `/api/downloads?localPath=${encodeURIComponent('/nowhere/else')}`);
      assert.equal(elsewhere.body.data.total, 0);
    });

    it('treats empty query values as not given, as the contract example sends them', async () => {
      const answer = await test.api('GET', '/api/downloads?current=&pageSize=&filter=&localPath=');
      assert.equal(answer.status, 200, answer.text);
    });

    for (const query of ['current=0', 'current=abc', 'current=1e300', 'current=99999999999999999999', 'pageSize=0', 'pageSize=101', 'pageSize=2.5', 'filter=bogus', 'localPath=relative/dir']) {
      it(`answers 400 for ?${query}`, async () => {
        assertError(await test.api('GET', `/api/downloads?${query}`), 400, new RegExp(query.split('=')[0]));
      });
    }

    it('lists active tasks (waiting or downloading)', async () => {
      const answer = await test.api('GET', '/api/downloads/active');
      assert.equal(answer.status, 200);
      assert.ok(Array.isArray(answer.body.data));
      assert.ok(answer.body.data.every((task: { status: string }) => ['waiting', 'downloading'].includes(task.status)));
      assert.ok(answer.body.data.some((task: { id: number }) => task.id === ids[2]));
    });

    it('lists distinct non-empty folders', async () => {
      const answer = await test.api('GET', '/api/downloads/folders');
      assert.ok(answer.body.data.includes('alpha'));
      assert.ok(answer.body.data.includes('beta'));
      assert.equal(new Set(answer.body.data).size, answer.body.data.length);
      assert.ok(!answer.body.data.includes(''));
    });

    it('exports URLs as plain text, newest first, unwrapped', async () => {
      const response = await fetch(`${test.baseUrl}/api/downloads/export`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /text\/plain/);
      const lines = (await response.text()).trim().split('\n');
      const all = await test.api('GET', '/api/downloads?pageSize=100');
      assert.deepEqual(lines.slice(0, all.body.data.list.length), all.body.data.list.map((task: { url: string }) => task.url));
    });

    it('gets one task, 400 for a bad id, 404 for an unknown one', async () => {
      const answer = await test.api('GET', `/api/downloads/${ids[2]}`);
      assert.equal(answer.body.data.id, ids[2]);
      for (const bad of ['abc', '0', '-1', '1.5', '1e3']) assertError(await test.api('GET', `/api/downloads/${bad}`), 400, /id must be a positive integer/, 'invalid_id');
      assertError(await test.api('GET', '/api/downloads/999999'), 404, /999999/, 'download_not_found');
    });

    it('returns the log envelope for a task, 404 for an unknown one', async () => {
      const answer = await test.api('GET', `/api/downloads/${ids[2]}/logs`);
      assert.equal(answer.body.data.id, ids[2]);
      assert.equal(typeof answer.body.data.log, 'string');
      assertError(await test.api('GET', '/api/downloads/999999/logs'), 404);
    });
  });

  describe('editing and status', () => {
    it('edits name, url, headers and folder with the create rules', async () => {
      const [task] = (await test.api('POST', '/api/downloads', { tasks: [aTask()] })).body.data;
      const answer = await test.api('PUT', `/api/downloads/${task.id}`, { name: 'Renamed', url: 'https://a.test/new.mp4', headers: ['X-A: 1'], folder: 'moved' });
      assert.equal(answer.status, 200);
      assert.equal(answer.body.data.name, 'Renamed');
      assert.equal(answer.body.data.url, 'https://a.test/new.mp4');
      assert.equal(answer.body.data.headers, 'X-A: 1');
      assert.equal(answer.body.data.folder, 'moved');
      assertError(await test.api('PUT', `/api/downloads/${task.id}`, { folder: '../up' }), 400, /folder/);
      assertError(await test.api('PUT', `/api/downloads/${task.id}`, { url: 'file:///etc/passwd' }), 400, /url/);
      assertError(await test.api('PUT', `/api/downloads/${task.id}`, { headers: 'nocolon' }), 400, /headers/);
      assertError(await test.api('PUT', '/api/downloads/999999', { name: 'x' }), 404);
      const renamed = await test.api('PUT', `/api/downloads/${task.id}`, { name: null });
      assert.equal(renamed.status, 200, renamed.text);
      assert.equal(renamed.body.data.name, 'new', 'a null name is derived from the URL again');
      assertError(await test.api('PUT', `/api/downloads/${task.id}`, { url: null }), 400, /url/);
    });

    it('sets isLive, and refuses a non-boolean', async () => {
      const [task] = (await test.api('POST', '/api/downloads', { tasks: [aTask()] })).body.data;
      const answer = await test.api('PUT', `/api/downloads/${task.id}/live`, { isLive: true });
      assert.equal(answer.body.data.isLive, true);
      assertError(await test.api('PUT', `/api/downloads/${task.id}/live`, { isLive: 'yes' }), 400, /isLive/);
      assertError(await test.api('PUT', `/api/downloads/${task.id}/live`, {}), 400, /isLive/);
      assertError(await test.api('PUT', '/api/downloads/999999/live', { isLive: true }), 404);
    });

    it('marks idle tasks success or failed, refuses downloading, and changes nothing when an id is unknown', async () => {
      const created = (await test.api('POST', '/api/downloads', { tasks: [aTask(), aTask()] })).body.data;
      const ids = created.map((task: { id: number }) => task.id);
      const marked = await test.api('PUT', '/api/downloads/status', { ids, status: 'success' });
      assert.deepEqual(marked.body.data.map((task: { status: string }) => task.status), ['success', 'success']);
      assertError(await test.api('PUT', '/api/downloads/status', { ids, status: 'downloading' }), 400, /status must be one of/);
      assertError(await test.api('PUT', '/api/downloads/status', { ids: [ids[0], 999999], status: 'failed' }), 404, /999999/);
      assert.equal((await test.api('GET', `/api/downloads/${ids[0]}`)).body.data.status, 'success', 'nothing changed');
      assertError(await test.api('PUT', '/api/downloads/status', { ids: [], status: 'failed' }), 400, /ids/);
      assertError(await test.api('PUT', '/api/downloads/status', { ids: ['a'], status: 'failed' }), 400, /ids/);
      const stopped = await test.api('PUT', '/api/downloads/status', { ids, status: 'stopped' });
      assert.equal(stopped.status, 200);
    });

    it('stops an idle task without error and answers {}', async () => {
      const [task] = (await test.api('POST', '/api/downloads', { tasks: [aTask()] })).body.data;
      const answer = await test.api('POST', `/api/downloads/${task.id}/stop`);
      assert.deepEqual(answer.body, { success: true, code: 0, message: 'ok', data: {} });
      assertError(await test.api('POST', '/api/downloads/999999/stop'), 404);
    });

    it('validates the start body: localPath must be absolute, deleteSegments boolean', async () => {
      const [task] = (await test.api('POST', '/api/downloads', { tasks: [aTask()] })).body.data;
      assertError(await test.api('POST', `/api/downloads/${task.id}/start`, { localPath: 'relative/dir' }), 400, /localPath must be an absolute path/);
      assertError(await test.api('POST', `/api/downloads/${task.id}/start`, { deleteSegments: 'no' }), 400, /deleteSegments/);
      const nulls = await test.api('POST', `/api/downloads/${task.id}/start`, { localPath: null, deleteSegments: null });
      assert.equal(nulls.status, 200, nulls.text);
      assert.equal(nulls.body.data.localPath, test.config.downloadDir);
      await test.api('POST', `/api/downloads/${task.id}/stop`);
      assertError(await test.api('POST', '/api/downloads/999999/start'), 404);
    });

    it('deletes a task, 404 afterwards and for an unknown id', async () => {
      const [task] = (await test.api('POST', '/api/downloads', { tasks: [aTask()] })).body.data;
      const answer = await test.api('DELETE', `/api/downloads/${task.id}`);
      assert.deepEqual(answer.body.data, {});
      assertError(await test.api('GET', `/api/downloads/${task.id}`), 404);
      assertError(await test.api('DELETE', `/api/downloads/${task.id}`), 404);
      assertError(await test.api('DELETE', `/api/downloads/${task.id}?deleteFile=maybe`), 400, /deleteFile/);
    });
  });
});

describe('task views, search and export for real clients', () => {
  let test: TestApp;
  let origin: OriginServer;

  before(async () => {
    origin = new OriginServer().route('/kept.bin', { body: Buffer.alloc(2048, 1) }).route('/removed.bin', { body: Buffer.alloc(2048, 2) });
    await origin.start();
    test = await startTestApp();
  });

  after(async () => {
    await test.close();
    await origin.stop();
  });

  it('says exists true for a finished task whose file is on disk, false once the file is removed, and false before success', async () => {
    const created = await test.api('POST', '/api/downloads', { tasks: [{ type: 'direct', url: origin.url('/kept.bin') }, { type: 'direct', url: origin.url('/removed.bin') }], startDownload: true });
    assert.equal(created.status, 200, created.text);
    for (const task of created.body.data) assert.equal(task.exists, false, 'not finished yet');
    const [kept, removed] = created.body.data.map((task: { id: number }) => task.id);
    const keptTask = await waitForStatus(test, kept, ['success', 'failed']);
    const removedTask = await waitForStatus(test, removed, ['success', 'failed']);
    assert.equal(keptTask.status, 'success', keptTask.error);
    assert.equal(removedTask.status, 'success', removedTask.error);
    assert.equal(keptTask.exists, true);
    assert.equal(removedTask.exists, true);
    await rm(removedTask.file);
    // the answer may be cached for a few seconds: the contract allows it, so wait a little longer than that
    const gone = await waitFor(async () => {
      const answer = await test.api('GET', `/api/downloads/${removed}`);
      return answer.body.data.exists === false ? answer.body.data : undefined;
    }, 10_000, 'exists to turn false after the file was removed');
    assert.equal(gone.status, 'success', 'the status stays');
    const listed = await test.api('GET', '/api/downloads?pageSize=100');
    const byId = new Map(listed.body.data.list.map((task: { id: number; exists: boolean }) => [task.id, task.exists]));
    assert.equal(byId.get(kept), true);
    assert.equal(byId.get(removed), false);
    const active = await test.api('GET', '/api/downloads/active');
    for (const task of active.body.data) assert.equal(task.exists, false);
  });

  it('answers a page of 100 tasks marked success quickly, exists false for each (marked by hand: no file)', async () => {
    const created = await test.api('POST', '/api/downloads', { tasks: Array.from({ length: 100 }, (_, index) => ({ type: 'direct', url: `http://127.0.0.1:9/many-${index}.bin` })) });
    const ids = created.body.data.map((task: { id: number }) => task.id);
    await test.api('PUT', '/api/downloads/status', { ids, status: 'success' });
    const startedAt = Date.now();
    const page = await test.api('GET', '/api/downloads?pageSize=100&filter=success');
    assert.equal(page.body.data.list.length, 100);
    assert.ok(page.body.data.list.every((task: { exists: unknown; file: unknown }) => task.exists === false && task.file === null));
    assert.ok(Date.now() - startedAt < 5_000, `listing took ${Date.now() - startedAt} ms`);
  });

  it('shows queuedAt: null while idle, an ISO time once queued, null again when stopped', async () => {
    const [task] = (await test.api('POST', '/api/downloads', { tasks: [{ type: 'direct', url: 'http://127.0.0.1:9/never.bin' }] })).body.data;
    assert.equal(task.queuedAt, null);
    assert.equal(task.status, 'waiting');
    const queued = (await test.api('POST', '/api/downloads', { tasks: [{ type: 'direct', url: 'http://127.0.0.1:9/never.bin' }], startDownload: true })).body.data[0];
    assert.match(queued.queuedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const started = await test.api('POST', `/api/downloads/${task.id}/start`);
    assert.match(started.body.data.queuedAt ?? '', /^\d{4}-/);
    await test.api('POST', `/api/downloads/${task.id}/stop`);
    await test.api('POST', `/api/downloads/${queued.id}/stop`);
    assert.equal((await test.api('GET', `/api/downloads/${task.id}`)).body.data.queuedAt, null);
  });

  it('searches the list by a substring of the name or the URL', async () => {
    const tag = `zq${Date.now()}`;
    await test.api('POST', '/api/downloads', { tasks: [
      { type: 'direct', url: `http://127.0.0.1:9/${tag}-by-url.bin`, name: 'plain' },
      { type: 'direct', url: 'http://127.0.0.1:9/other.bin', name: `Named ${tag.toUpperCase()} here` },
      { type: 'direct', url: 'http://127.0.0.1:9/unrelated.bin', name: 'unrelated' },
    ] });
    const found = await test.api('GET', `/api/downloads?search=${tag}&_=1`);
    assert.equal(found.status, 200, found.text);
    assert.equal(found.body.data.total, 2);
    assert.deepEqual(found.body.data.list.map((task: { name: string }) => task.name).sort(), [`Named ${tag.toUpperCase()} here`, 'plain']);
    assert.equal((await test.api('GET', '/api/downloads?search=%25_%25')).body.data.total, 0, 'wildcards are literal');
    const all = await test.api('GET', '/api/downloads?search=');
    assert.ok(all.body.data.total >= 3, 'an empty search is no search');
    assertError(await test.api('GET', `/api/downloads?search=${'a'.repeat(1001)}`), 400, /search/, 'validation_failed');
  });

  it('exports plain text to curl and browsers, and the envelope to clients that rank JSON first', async () => {
    const text = async (accept?: string) => {
      const response = await fetch(`${test.baseUrl}/api/downloads/export`, { headers: accept ? { accept } : {} });
      return { type: response.headers.get('content-type') ?? '', vary: response.headers.get('vary') ?? '', body: await response.text() };
    };
    const plain = await text('*/*');
    assert.match(plain.type, /^text\/plain/);
    assert.match(plain.vary, /accept/i);
    assert.ok(plain.body.includes(origin.url('/kept.bin')));
    assert.match((await text()).type, /^text\/plain/);
    assert.match((await text('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8')).type, /^text\/plain/);
    assert.match((await text('application/json;q=0.5, text/plain')).type, /^text\/plain/);
    for (const accept of ['application/json, text/plain, */*', 'application/json', 'text/plain;q=0.2, application/json;q=0.9']) {
      const wrapped = await text(accept);
      assert.match(wrapped.type, /^application\/json/, accept);
      assert.deepEqual(JSON.parse(wrapped.body), { success: true, code: 0, message: 'ok', data: plain.body });
    }
  });
});

describe('API key authentication', () => {
  const key = 'correct-horse-battery';
  let test: TestApp;

  before(async () => {
    test = await startTestApp({ API_KEY: key });
  });

  after(async () => {
    await test.close();
  });

  it('refuses a request without a key with a 401 envelope', async () => {
    assertError(await test.api('GET', '/api/downloads'), 401, /API key/, 'unauthorized');
    assertError(await test.api('POST', '/api/downloads/1/stop', '', { 'content-type': 'application/json' }), 401, /API key/, 'unauthorized');
  });

  it('refuses a wrong key', async () => {
    assertError(await test.api('GET', '/api/downloads', undefined, { authorization: 'Bearer wrong-key-here' }), 401, undefined, 'unauthorized');
    assertError(await test.api('GET', '/api/downloads', undefined, { 'x-api-key': `${key}x` }), 401);
  });

  it('accepts Bearer, X-API-Key and ?token=', async () => {
    assert.equal((await test.api('GET', '/api/downloads', undefined, { authorization: `Bearer ${key}` })).status, 200);
    assert.equal((await test.api('GET', '/api/downloads', undefined, { 'x-api-key': key })).status, 200);
    assert.equal((await test.api('GET', `/api/downloads?token=${key}`)).status, 200);
    assert.equal((await test.api('GET', `/api/downloads/folders?token=${key}`)).status, 200);
  });

  it('protects the event stream, which accepts ?token=', async () => {
    const refused = await fetch(`${test.baseUrl}/api/events`);
    assert.equal(refused.status, 401);
    await refused.body?.cancel();
    const controller = new AbortController();
    const accepted = await fetch(`${test.baseUrl}/api/events?token=${key}`, { signal: controller.signal });
    assert.equal(accepted.status, 200);
    assert.match(accepted.headers.get('content-type') ?? '', /text\/event-stream/);
    controller.abort();
  });

  it('answers 401, not 404, for an unknown /api route without the key', async () => {
    assertError(await test.api('GET', '/api/nothing-here'), 401, /API key/, 'unauthorized');
    assertError(await test.api('GET', '/api/nothing-here', undefined, { 'x-api-key': key }), 404, undefined, 'route_not_found');
  });

  it('leaves /healthy open', async () => {
    assert.equal((await test.api('GET', '/healthy')).status, 200);
  });
});

describe('hostile paths never leave the download directory', () => {
  let test: TestApp;
  let origin: OriginServer;

  before(async () => {
    origin = new OriginServer().route('/evil.bin', { body: Buffer.from('payload'), headers: { 'content-disposition': 'attachment; filename="../../../../tmp/evil.sh"' } });
    await origin.start();
    test = await startTestApp();
  });

  after(async () => {
    await test.close();
    await origin.stop();
  });

  it('saves under DOWNLOAD_DIR whatever the server proposes as a name', async () => {
    const answer = await test.api('POST', '/api/downloads', { tasks: [{ type: 'direct', url: origin.url('/evil.bin'), folder: './safe/./dir' }], startDownload: true });
    const id = answer.body.data[0].id;
    const { waitForStatus } = await import('./helpers/app-harness.js');
    const done = await waitForStatus(test, id, ['success', 'failed']);
    assert.equal(done.status, 'success', done.error);
    assert.equal(dirname(done.file), join(test.config.downloadDir, 'safe', 'dir'), done.file);
    assert.ok(!basename(done.file).startsWith('.'), done.file);
  });
});
