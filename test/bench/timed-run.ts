import { spawn } from 'node:child_process';

export interface TimedRun {
  wallMs: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end (at most 5 minutes) and measures its wall time. */
export function timedRun(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<TimedRun> {
  return new Promise((resolve, reject) => {
    const began = performance.now();
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ wallMs: performance.now() - began, code, stdout, stderr });
    });
  });
}

/** Keeps every tool on loopback whatever proxy the environment names. */
export const LOOPBACK_ENV = { ...process.env, http_proxy: '', https_proxy: '', HTTP_PROXY: '', HTTPS_PROXY: '', no_proxy: '*', NO_PROXY: '*' };
