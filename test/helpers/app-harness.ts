import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../src/bootstrap.js';
import { type AppConfig, loadConfig } from '../../src/config/app-config.js';

export interface ApiAnswer<T = unknown> {
  status: number;
  headers: Headers;
  body: { success: boolean; code: number; message: string; data: T; errorCode?: string; fields?: Array<{ path: string; message: string }> };
  text: string;
}

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  baseUrl: string;
  root: string;
  api<T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiAnswer<T>>;
  close(): Promise<void>;
}

/** Sends a request to a running service and reads the envelope (or the raw text). */
export async function callApi<T>(baseUrl: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiAnswer<T>> {
  const init: RequestInit = { method, headers: { ...headers }, signal: AbortSignal.timeout(30_000) };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${baseUrl}${path}`, init);
  const text = await response.text();
  let parsed: ApiAnswer<T>['body'];
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined as never;
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}

/** The whole application on 127.0.0.1 with its own temporary DATA_DIR and DOWNLOAD_DIR. */
export async function startTestApp(env: Record<string, string> = {}, root?: string): Promise<TestApp> {
  const dir = root ?? (await mkdtemp(join(tmpdir(), 'mediago-e2e-')));
  const config = loadConfig({
    DATA_DIR: join(dir, 'data'),
    DOWNLOAD_DIR: join(dir, 'downloads'),
    RETRY_BASE_DELAY_MS: '50',
    // every test origin is on loopback, which the address guard refuses by default
    ALLOW_PRIVATE_ADDRESSES: 'true',
    ...env,
  });
  const app = await createApp(config, { logger: false });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  const baseUrl = `http://127.0.0.1:${address.port}`;
  return {
    app,
    config,
    baseUrl,
    root: dir,
    api: (method, path, body, headers) => callApi(baseUrl, method, path, body, headers),
    async close() {
      await app.close();
      if (!root) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until check returns a value, or fails after timeoutMs with the last value in the message. */
export async function waitFor<T>(check: () => Promise<T | undefined | null | false>, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const value = await check();
    if (value) return value;
    last = value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
}

/** Waits until a task reaches one of the given statuses and returns it. */
export async function waitForStatus(test: Pick<TestApp, 'api'>, id: number, statuses: string[], timeoutMs = 60_000): Promise<any> {
  return waitFor(
    async () => {
      const { body } = await test.api('GET', `/api/downloads/${id}`);
      return statuses.includes(body?.data?.status) ? body.data : undefined;
    },
    timeoutMs,
    `task ${id} to reach ${statuses.join('/')}`,
  );
}
