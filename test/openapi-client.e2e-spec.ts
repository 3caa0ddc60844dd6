import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { OriginServer } from './fixtures/origin-server.js';
import { type TestApp, startTestApp } from './helpers/app-harness.js';
import { REFUSED_MARK } from './helpers/loopback-only.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const API_KEY = 'integrator-key-1234';
const KiB = 1024;

/**
 * What an integrator writes: a client typed only by the types generated from /docs-json. It is type-checked
 * against them (a route, field or errorCode the document gets wrong does not compile) and then run.
 */
const CLIENT_SCRIPT = String.raw`
import assert from 'node:assert/strict';
import createClient from 'openapi-fetch';
import type { components, paths } from './api.js';

type Task = components['schemas']['DownloadTaskDto'];
type Status = Task['status'];

const client = createClient<paths>({ baseUrl: process.env.API_BASE, headers: { Authorization: 'Bearer ' + process.env.API_KEY } });
const fileUrl = String(process.env.FILE_URL);
const seen: Task[] = [];

async function getTask(id: number): Promise<Task> {
  const { data, error } = await client.GET('/api/downloads/{id}', { params: { path: { id } } });
  if (error) throw new Error('get ' + id + ' answered ' + error.errorCode + ': ' + error.message);
  const task: Task = data.data;
  seen.push(task);
  return task;
}

async function waitForStatus(id: number, wanted: Status[]): Promise<Task> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const task = await getTask(id);
    if (wanted.includes(task.status)) return task;
    if (Date.now() > deadline) throw new Error('task ' + id + ' stayed ' + task.status + ', wanted ' + wanted.join('/'));
    await new Promise((done) => setTimeout(done, 50));
  }
}

// create, idle
const created = await client.POST('/api/downloads', {
  body: { tasks: [{ type: 'direct', url: fileUrl, name: 'integrator', folder: 'typed' }], startDownload: false },
});
assert.equal(created.response.status, 200);
assert.ok(created.data, 'create answered ' + JSON.stringify(created.error));
const success: true = created.data.success;
assert.equal(success, true);
const [task] = created.data.data;
const id: number = task.id;
assert.equal(task.status, 'waiting');
assert.equal(task.file, null);
seen.push(task);

// list and page
const page = await client.GET('/api/downloads', { params: { query: { current: 1, pageSize: 10, filter: 'waiting' } } });
assert.ok(page.data);
const total: number = page.data.data.total;
assert.equal(total, 1);
assert.deepEqual(page.data.data.list.map((item) => item.id), [id]);

// start, stop while it runs, start again to resume, then it succeeds
const started = await client.POST('/api/downloads/{id}/start', { params: { path: { id } }, body: { deleteSegments: true } });
assert.ok(started.data);
await waitForStatus(id, ['downloading']);
const stopped = await client.POST('/api/downloads/{id}/stop', { params: { path: { id } } });
assert.ok(stopped.data);
const empty: Record<string, never> = stopped.data.data;
assert.deepEqual(empty, {});
await waitForStatus(id, ['stopped']);
assert.ok((await client.POST('/api/downloads/{id}/start', { params: { path: { id } } })).data);
const done = await waitForStatus(id, ['success']);
assert.equal(typeof done.file, 'string');
assert.equal(done.percent, 100);

// logs, folders, export as text
const logs = await client.GET('/api/downloads/{id}/logs', { params: { path: { id } } });
assert.ok(logs.data);
const log: string = logs.data.data.log;
assert.equal(logs.data.data.id, id);
assert.ok(log.length > 0, 'the log tells what the runs did');
const folders = await client.GET('/api/downloads/folders');
assert.deepEqual(folders.data?.data, ['typed']);
const exported = await client.GET('/api/downloads/export', { parseAs: 'text', headers: { Accept: 'text/plain' } });
assert.ok(exported.data?.includes(fileUrl), 'export lists the URL');

// errors, typed by the document: each errorCode below must be one the document lists for that answer
const invalid = await client.GET('/api/downloads/{id}', { params: { path: { id: 'abc' as unknown as number } } });
assert.equal(invalid.response.status, 400);
assert.ok(invalid.error);
const invalidCode: 'invalid_id' | undefined = invalid.response.status === 400 && invalid.error.errorCode === 'invalid_id' ? invalid.error.errorCode : undefined;
assert.equal(invalidCode, 'invalid_id');
// openapi-fetch's Readable drops properties typed exactly null from its types, so data is read untyped
assert.equal((invalid.error as { data?: unknown }).data, null);
assert.equal(invalid.error.success, false);

const refused = await client.POST('/api/downloads', { body: { tasks: [] } });
assert.equal(refused.response.status, 400);
assert.ok(refused.error);
assert.equal(refused.error.errorCode, 'validation_failed' satisfies components['schemas']['ErrorCode']);
assert.equal(refused.error.code, 400);

// delete with the file, then the id is gone
const deleted = await client.DELETE('/api/downloads/{id}', { params: { path: { id }, query: { deleteFile: true } } });
assert.ok(deleted.data);
const gone = await client.GET('/api/downloads/{id}', { params: { path: { id } } });
assert.equal(gone.response.status, 404);
assert.ok(gone.error);
assert.equal(gone.error.errorCode, 'download_not_found');
const goneAgain = await client.POST('/api/downloads/{id}/stop', { params: { path: { id } } });
assert.equal(goneAgain.error?.errorCode, 'download_not_found');

// without the key
const anonymous = createClient<paths>({ baseUrl: process.env.API_BASE });
const denied = await anonymous.GET('/api/downloads/active');
assert.equal(denied.response.status, 401);
assert.equal(denied.error?.errorCode, 'unauthorized');

console.log(JSON.stringify({ file: done.file, views: seen }));
`;

/** The same lifecycle written against a document that lies: these lines must not compile. */
const LYING_SCRIPT = String.raw`
import createClient from 'openapi-fetch';
import type { paths } from './api.js';
const client = createClient<paths>({ baseUrl: 'http://127.0.0.1:9' });
const answer = await client.GET('/api/downloads/{id}', { params: { path: { id: 1 } } });
if (answer.data) {
  const progress: string = answer.data.data.percent;
  console.log(progress, answer.data.data.notAField);
}
if (answer.error) {
  const code: 'task_running' = answer.error.errorCode;
  console.log(code);
}
await client.GET('/api/downloads/{id}/nothing', { params: { path: { id: 1 } } });
`;

/** Type-checks the files with the generated types (strict, Node ESM) and writes JavaScript beside them. */
function compile(files: string[]): string[] {
  const program = ts.createProgram(files, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2023,
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
    types: ['node'],
    strict: true,
    skipLibCheck: true,
    typeRoots: [join(root, 'node_modules/@types')],
  });
  const diagnostics = [...ts.getPreEmitDiagnostics(program), ...program.emit().diagnostics];
  return diagnostics.map((diagnostic) => {
    const where = diagnostic.file && diagnostic.start !== undefined ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start) : null;
    const name = diagnostic.file ? diagnostic.file.fileName.split('/').pop() : '';
    return `${name}${where ? `:${where.line + 1}` : ''} ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
  });
}

function runScript(file: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const preload = pathToFileURL(join(here, 'helpers/loopback-only.js')).href;
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', preload, file], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** The JSON type a schema property promises, checked against a value the service sent. */
function matchesSchema(value: unknown, schema: any, schemas: Record<string, any>): boolean {
  if (schema.$ref) return matchesSchema(value, schemas[schema.$ref.split('/').pop()], schemas);
  if (value === null) return schema.nullable === true;
  if (schema.enum && !schema.enum.includes(value)) return false;
  switch (schema.type) {
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'string':
      return typeof value === 'string' && (schema.format !== 'date-time' || !Number.isNaN(Date.parse(value)));
    case 'boolean':
      return typeof value === 'boolean';
    default:
      return true;
  }
}

describe('an integrator client generated from /docs-json (openapi-typescript + openapi-fetch)', () => {
  let test: TestApp;
  let origin: OriginServer;
  let workDir: string;
  let document: any;

  before(async () => {
    origin = new OriginServer().route('/media/typed.bin', { body: Buffer.alloc(768 * KiB, 7), bytesPerSecond: 256 * KiB });
    await origin.start();
    // one connection, so that the 3 s download is still running when the client stops it
    test = await startTestApp({ API_KEY, DIRECT_CONNECTIONS: '1' });
    const response = await fetch(`${test.baseUrl}/docs-json`, { signal: AbortSignal.timeout(10_000) });
    document = await response.json();
    // inside the repository, so that the script resolves openapi-fetch and @types/node from node_modules
    await mkdir(join(root, 'build'), { recursive: true });
    workDir = await mkdtemp(join(root, 'build', 'openapi-client-'));
    await writeFile(join(workDir, 'package.json'), JSON.stringify({ type: 'module' }));
    await writeFile(join(workDir, 'api.d.ts'), astToString(await openapiTS(document)));
  });

  after(async () => {
    await test?.close();
    await origin?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('refuses to compile a client that uses a field, type, errorCode or route the document does not have', async () => {
    const file = join(workDir, 'lying.ts');
    await writeFile(file, LYING_SCRIPT);
    const problems = compile([file]).join('\n');
    assert.match(problems, /lying\.ts:7 .*not assignable to type 'string'/, problems);
    assert.match(problems, /lying\.ts:8 .*notAField/, problems);
    assert.match(problems, /lying\.ts:11 .*"task_running"/, problems);
    assert.match(problems, /lying\.ts:14 /, problems);
  });

  it('compiles a typed client and drives a whole lifecycle with it: create, list, start, stop, resume, logs, export, errors, delete', async () => {
    const file = join(workDir, 'lifecycle.ts');
    await writeFile(file, CLIENT_SCRIPT);
    assert.deepEqual(compile([file]), [], 'the client type-checks against the generated types');

    const run = await runScript(join(workDir, 'lifecycle.js'), { API_BASE: test.baseUrl, API_KEY, FILE_URL: origin.url('/media/typed.bin') });
    assert.doesNotMatch(run.stderr, new RegExp(REFUSED_MARK));
    assert.equal(run.code, 0, run.stderr.slice(0, 4000));

    const { file: saved, views } = JSON.parse(run.stdout.trim().split('\n').pop()!);
    assert.match(saved, /typed[/\\]integrator\.bin$/);
    const schemas = document.components.schemas;
    const taskSchema = schemas.DownloadTaskDto;
    assert.ok(views.length >= 4);
    for (const view of views) {
      for (const field of taskSchema.required) {
        assert.ok(field in view, `a task view carries ${field}`);
        assert.ok(matchesSchema(view[field], taskSchema.properties[field], schemas), `${field} = ${JSON.stringify(view[field])} is what the document says`);
      }
      for (const field of Object.keys(view)) assert.ok(field in taskSchema.properties, `the document describes the task field ${field}`);
    }
  });
});
