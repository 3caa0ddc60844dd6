import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { abortError } from './abort.js';

/** Process groups started here and still running: none may outlive the service. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

/**
 * Starts a program as the leader of its own process group (so that a stop ends everything it starts),
 * and makes sure the group is killed if the service exits first.
 */
export function spawnGroup(command: string, args: string[], options: SpawnOptions): ChildProcess {
  const child = spawn(command, args, { ...options, detached: true });
  if (child.pid !== undefined) {
    const pid = child.pid;
    liveGroups.add(pid);
    child.once('close', () => liveGroups.delete(pid));
  }
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const pid of liveGroups) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    });
  }
  return child;
}

export interface RunProcessOptions {
  signal?: AbortSignal;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Each line the program prints, stdout and stderr alike. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** How long a program gets to exit after SIGTERM before SIGKILL. */
  killGraceMs?: number;
}

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines printed, for error messages. */
  tail: string[];
}

/**
 * Runs a program in its own process group, so that stopping it also ends every process it started.
 * Resolves when it exits (whatever its code); rejects with an AbortError when the signal fires.
 */
export async function runProcess(command: string, args: string[], options: RunProcessOptions = {}): Promise<ProcessResult> {
  if (options.signal?.aborted) throw abortError(options.signal);
  const child = spawnGroup(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  const remember = (line: string, stream: 'stdout' | 'stderr') => {
    tail.push(line);
    if (tail.length > 50) tail.shift();
    options.onLine?.(line, stream);
  };
  createInterface({ input: child.stdout! }).on('line', (line) => remember(line, 'stdout'));
  createInterface({ input: child.stderr! }).on('line', (line) => remember(line, 'stderr'));

  const onAbort = () => void killGroup(child, options.killGraceMs ?? 3_000);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const [code, signal] = (await Promise.race([
      once(child, 'close'),
      once(child, 'error').then(([error]) => Promise.reject(error)),
    ])) as [number | null, NodeJS.Signals | null];
    if (options.signal?.aborted) throw abortError(options.signal);
    return { code, signal, tail };
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** SIGTERM to the whole process group, then SIGKILL if it is still there after the grace period. */
export async function killGroup(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // the group is already gone
    }
  };
  signalGroup('SIGTERM');
  const exited = once(child, 'close').then(() => true);
  const timedOut = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), graceMs).unref());
  if (!(await Promise.race([exited, timedOut]))) signalGroup('SIGKILL');
  // children that outlived their parent still belong to the group
  signalGroup('SIGKILL');
}
