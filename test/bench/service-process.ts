import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../helpers/free-port.js';

/** The built service in its own process, for measuring what a user of the running service sees. */
export class BenchService {
  private child: ChildProcess | null = null;
  baseUrl = '';

  /**
   * `requestLog`: a file the service's output goes to, so that its request log can be read back (requestTimes). A
   * file, not a pipe: a bench process reading each line as it comes would take a core from the service per request.
   */
  constructor(private readonly options: { requestLog?: string } = {}) {}

  /** Resident memory right after start-up, before any task (KiB). */
  idleRssKb = NaN;

  /** Spawns the service (DATA_DIR and DOWNLOAD_DIR under root unless env names them) and waits for /healthy; returns the milliseconds from spawn to its first healthy answer. */
  async start(root: string, env: Record<string, string>): Promise<number> {
    const port = await freePort();
    this.baseUrl = `http://127.0.0.1:${port}`;
    // bundled into one file, as `npm run build` ships it
    const main = fileURLToPath(new URL('../../main.js', import.meta.url));
    const began = performance.now();
    // as a user runs it, with no Node flags: whatever the service needs, it sets itself
    const output = this.options.requestLog ? openSync(this.options.requestLog, 'a') : 'ignore';
    try {
      this.child = spawn(process.execPath, [main], {
        env: { ...process.env, DATA_DIR: join(root, 'data'), DOWNLOAD_DIR: join(root, 'downloads'), ...env, PORT: String(port), HOST: '127.0.0.1', ALLOW_PRIVATE_ADDRESSES: 'true' },
        stdio: ['ignore', output, 'ignore'],
      });
    } finally {
      if (typeof output === 'number') closeSync(output);
    }
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (await fetch(`${this.baseUrl}/healthy`).then((response) => response.ok, () => false)) {
        const ready = performance.now() - began;
        // settled: start-up's garbage collected, nothing running
        await new Promise((resolve) => setTimeout(resolve, 1000));
        this.idleRssKb = this.statusKb('VmRSS');
        return ready;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error('the service did not start within 30 s');
  }

  /** Creates one started task and waits until it succeeds; returns the milliseconds from request to success. */
  async download(task: Record<string, unknown>): Promise<number> {
    const began = performance.now();
    const created = await fetch(`${this.baseUrl}/api/downloads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tasks: [task], startDownload: true }),
    }).then((response) => response.json() as Promise<{ data: Array<{ id: number }> }>);
    const id = created.data[0].id;
    const deadline = Date.now() + 300_000;
    while (Date.now() < deadline) {
      const { data } = (await fetch(`${this.baseUrl}/api/downloads/${id}`).then((response) => response.json())) as { data: { status: string; error: string | null } };
      if (data.status === 'success') return performance.now() - began;
      if (data.status === 'failed') throw new Error(`the service failed the task: ${data.error}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error('the task did not finish within 5 minutes');
  }

  /**
   * The duration of each request in the request log so far, in the order logged (its durationMs: from the request's
   * headers read to its last byte handed to the socket). A line is written once its answer has gone out, so it can
   * trail the client: this waits (up to 2 s) until there are at least `atLeast`.
   */
  async requestTimes(atLeast: number): Promise<number[]> {
    const deadline = Date.now() + 2_000;
    for (;;) {
      const times = [...readFileSync(this.options.requestLog!, 'utf8').matchAll(/"durationMs":([0-9.]+)/g)].map((match) => Number(match[1]));
      if (times.length >= atLeast) return times;
      if (Date.now() > deadline) throw new Error(`the service logged ${times.length} requests, not ${atLeast}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** The service process's peak resident memory so far, in KiB. */
  peakRssKb(): number {
    return this.statusKb('VmHWM');
  }

  private statusKb(field: 'VmHWM' | 'VmRSS'): number {
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${this.child!.pid}/status`, 'utf8'));
    return match ? Number(match[1]) : NaN;
  }

  /** CPU time the service process has used so far (user + system), in ms: what a busy machine does not inflate. */
  cpuMs(): number {
    // /proc/<pid>/stat after the command name: state is field 0, utime 11, stime 12, in USER_HZ (100 on Linux)
    const fields = readFileSync(`/proc/${this.child!.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  }

  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    await exited;
  }
}
