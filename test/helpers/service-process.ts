import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { callApi, waitFor } from './app-harness.js';
import { freePort } from './free-port.js';

/** The service bundled into one file, as `npm run build` ships it (npm test bundles the test build the same way). */
export const SERVICE_MAIN = fileURLToPath(new URL('../../main.js', import.meta.url));

/** The built service as its own process, as a user runs it: `node main.js`, no flags (it sets what it needs itself). */
export class ServiceProcess {
  child: ChildProcess | null = null;
  output = '';
  baseUrl = '';

  constructor(
    private readonly root: string,
    private readonly extraEnv: Record<string, string> = {},
  ) {}

  async start(): Promise<void> {
    const port = await freePort();
    this.baseUrl = `http://127.0.0.1:${port}`;
    this.child = spawn(process.execPath, [SERVICE_MAIN], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PORT: String(port),
        HOST: '127.0.0.1',
        // every test origin is on loopback, which the address guard refuses by default
        ALLOW_PRIVATE_ADDRESSES: 'true',
        DATA_DIR: join(this.root, 'data'),
        DOWNLOAD_DIR: join(this.root, 'downloads'),
        DIRECT_CONNECTIONS: '2',
        RETRY_BASE_DELAY_MS: '50',
        ...this.extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (chunk) => (this.output += chunk));
    this.child.stderr!.on('data', (chunk) => (this.output += chunk));
    try {
      // generous: on a loaded machine a cold Node and Nest start can take many seconds
      await waitFor(async () => {
        if (this.child?.exitCode !== null) throw new Error(`the service exited at start:\n${this.output}`);
        return fetch(`${this.baseUrl}/healthy`).then((response) => response.ok).catch(() => false);
      }, 60_000, 'the service to answer /healthy');
    } catch (error) {
      // a service that did not come up must not outlive the test (its pipes would keep the runner alive)
      this.child.kill('SIGKILL');
      throw error;
    }
  }

  get alive(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  api<T = any>(method: string, path: string, body?: unknown) {
    return callApi<T>(this.baseUrl, method, path, body);
  }

  async kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const child = this.child!;
    if (!this.alive) return { code: child.exitCode, signal: child.signalCode };
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    child.kill(signal);
    const [code, gotSignal] = await Promise.race([
      exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the service did not exit within 20 s of ${signal}`)), 20_000)),
    ]);
    return { code, signal: gotSignal };
  }
}

/** A node of a cluster under root: its own DATA_DIR and NODE_ID, the shared database and DOWNLOAD_DIR. */
export function clusterNode(root: string, databaseUrl: string, nodeId: string, env: Record<string, string> = {}): ServiceProcess {
  const dataDir = join(root, nodeId);
  mkdirSync(dataDir, { recursive: true });
  return new ServiceProcess(root, {
    DATABASE_URL: databaseUrl,
    NODE_ID: nodeId,
    DATA_DIR: dataDir,
    DOWNLOAD_DIR: join(root, 'shared-downloads'),
    MIN_FREE_SPACE: '0',
    MAX_CONCURRENT_DOWNLOADS: '3',
    LEASE_SECONDS: '3',
    ...env,
  });
}

/** Runs the service with this environment until it exits by itself (a refused boot); its exit code and output. */
export async function bootAndExit(env: Record<string, string>, timeoutMs = 60_000): Promise<{ code: number | null; output: string; ms: number }> {
  const began = Date.now();
  const child = spawn(process.execPath, [SERVICE_MAIN], { env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(await freePort()), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  // 'close', not 'exit': the process may exit before its last output has come through the pipes
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  return { code, output, ms: Date.now() - began };
}
