import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ErrorCode } from '../src/common/error-codes.js';
import { type TestApp, startTestApp } from './helpers/app-harness.js';
import { REFUSED_MARK } from './helpers/loopback-only.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root (this file runs from build/test/). */
const root = resolve(here, '../..');
const preload = pathToFileURL(join(here, 'helpers/loopback-only.js')).href;
const redoclyCli = join(root, 'node_modules/@redocly/cli/bin/cli.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs node with the loopback-only preload (no request may leave the machine) and Redocly's opt-outs set. */
function runOffline(args: string[], timeoutMs = 120_000): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', preload, ...args], {
      cwd: root,
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

interface LintReport {
  totals: { errors: number; warnings: number; ignored: number };
  problems: { ruleId: string; severity: string; message: string; location: { pointer?: string }[] }[];
}

async function lint(file: string): Promise<{ run: Run; report: LintReport }> {
  const run = await runOffline([redoclyCli, 'lint', file, '--config', join(root, 'redocly.yaml'), '--format=json']);
  assert.doesNotMatch(run.stderr, new RegExp(REFUSED_MARK), 'Redocly tried to reach the network');
  const start = run.stdout.indexOf('{');
  assert.ok(start >= 0, `Redocly printed no report (exit ${run.code}): ${run.stderr.slice(0, 2000)}`);
  return { run, report: JSON.parse(run.stdout.slice(start)) as LintReport };
}

function describeProblems(report: LintReport): string {
  return report.problems.map((problem) => `${problem.severity} ${problem.ruleId} at ${problem.location[0]?.pointer}: ${problem.message}`).join('\n');
}

describe('the served OpenAPI document', () => {
  let test: TestApp;
  let dir: string;
  let document: any;
  let documentFile: string;

  before(async () => {
    test = await startTestApp({ API_KEY: 'openapi-lint-key' });
    dir = await mkdtemp(join(tmpdir(), 'mediago-openapi-'));
    const response = await fetch(`${test.baseUrl}/docs-json`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(response.status, 200, 'the document is served without a key');
    document = await response.json();
    documentFile = join(dir, 'openapi.json');
    await writeFile(documentFile, JSON.stringify(document, null, 2));
  });

  after(async () => {
    await test?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('keeps child processes off the network (the guard the lint runs under works)', async () => {
    const probe = await runOffline(['-e', "fetch('http://192.0.2.1/').then(() => process.exit(2), () => process.exit(0))"], 30_000);
    assert.match(probe.stderr, new RegExp(`${REFUSED_MARK} 192\\.0\\.2\\.1`));
    assert.equal(probe.code, 0);
  });

  it('passes Redocly lint (recommended rules) with no error and no warning, offline', async () => {
    const { run, report } = await lint(documentFile);
    assert.equal(report.totals.errors, 0, describeProblems(report));
    assert.equal(report.totals.warnings, 0, describeProblems(report));
    assert.equal(run.code, 0);
  });

  it('is the lint that fails on a broken document (type "null" is not OpenAPI 3.0)', async () => {
    const broken = structuredClone(document);
    broken.components.schemas.ErrorEnvelope.properties.data = { type: 'null' };
    delete broken.servers;
    const brokenFile = join(dir, 'broken.json');
    await writeFile(brokenFile, JSON.stringify(broken));
    const { run, report } = await lint(brokenFile);
    assert.ok(report.totals.errors >= 1, 'the broken copy must be refused');
    assert.ok(report.problems.some((problem) => problem.ruleId === 'struct'), describeProblems(report));
    assert.notEqual(run.code, 0);
  });

  it('asks for the key on every operation but the health probe', () => {
    const schemes = Object.keys(document.components.securitySchemes).sort();
    assert.deepEqual(schemes, ['X-API-Key', 'bearer', 'token']);
    assert.equal(document.components.securitySchemes.bearer.bearerFormat, undefined, 'the key is opaque, not a JWT');
    assert.deepEqual(document.security.map((requirement: object) => Object.keys(requirement)[0]).sort(), schemes);
    for (const [path, item] of Object.entries<any>(document.paths)) {
      for (const operation of Object.values<any>(item)) {
        if (path === '/healthy') assert.deepEqual(operation.security, [], `${path} is open`);
        else assert.equal(operation.security, undefined, `${path} inherits the global security`);
      }
    }
  });

  it('describes every error answer with the errorCodes it carries, :id routes with invalid_id and download_not_found', () => {
    for (const [path, item] of Object.entries<any>(document.paths)) {
      for (const [method, operation] of Object.entries<any>(item)) {
        assert.ok(operation.operationId, `${method} ${path} has an operationId`);
        for (const [status, answer] of Object.entries<any>(operation.responses)) {
          if (Number(status) < 400) continue;
          const [envelope, narrowed] = answer.content['application/json'].schema.allOf;
          assert.equal(envelope.$ref, '#/components/schemas/ErrorEnvelope', `${method} ${path} ${status}`);
          assert.deepEqual(narrowed.properties.code.enum, [Number(status)]);
          assert.ok(narrowed.properties.errorCode.enum.length > 0, `${method} ${path} ${status} lists its errorCodes`);
        }
        if (path.includes('{id}')) {
          assert.ok(operation.responses['400'].content['application/json'].schema.allOf[1].properties.errorCode.enum.includes(ErrorCode.InvalidId), `${method} ${path}`);
          // download_not_found first; a route under a task may also miss something of its own (a stream segment)
          assert.equal(operation.responses['404'].content['application/json'].schema.allOf[1].properties.errorCode.enum[0], ErrorCode.DownloadNotFound, `${method} ${path}`);
        }
      }
    }
    assert.deepEqual([...document.components.schemas.ErrorCode.enum].sort(), Object.values(ErrorCode).sort());
  });

  it('describes the event stream as text/event-stream with every event and its payload', () => {
    const operation = document.paths['/api/events'].get;
    const frames = operation.responses['200'].content['text/event-stream'].schema.oneOf;
    const names = frames.flatMap((frame: any) => frame.properties.event.enum).sort();
    const expected = ['download-create', 'download-start', 'download-success', 'download-stop', 'download-failed', 'download-progress', 'download-update', 'download-delete'];
    assert.deepEqual(names, [...expected].sort());
    for (const name of expected) assert.match(operation.description, new RegExp(`\`${name}\``), `the description explains ${name}`);
    assert.match(operation.description, /: ping/);
    assert.match(operation.description, /\?token=/);
    assert.deepEqual(document.components.schemas.DownloadProgressPayload.required, ['id', 'percent', 'speed', 'downloadedBytes', 'totalBytes', 'eta']);
  });

  it('is in step with docs/api.md: every route, errorCode and event is described there', async () => {
    const text = await readFile(join(root, 'docs/api.md'), 'utf8');
    for (const [path, item] of Object.entries<any>(document.paths)) {
      for (const method of Object.keys(item)) {
        const route = `${method.toUpperCase()} ${path.replace('{id}', ':id')}`;
        assert.ok(text.includes(route), `docs/api.md describes ${route}`);
      }
    }
    for (const code of Object.values(ErrorCode)) assert.ok(text.includes(`\`${code}\``), `docs/api.md lists errorCode ${code}`);
    for (const name of document.paths['/api/events'].get.responses['200'].content['text/event-stream'].schema.oneOf.flatMap((frame: any) => frame.properties.event.enum)) {
      assert.ok(text.includes(`\`${name}\``), `docs/api.md describes event ${name}`);
    }
    for (const field of Object.keys(document.components.schemas.DownloadTaskDto.properties)) {
      assert.ok(text.includes(`\`${field}\``), `docs/api.md describes the task field ${field}`);
    }
  });
});
