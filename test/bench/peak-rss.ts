import { readFileSync } from 'node:fs';

/**
 * This process's peak resident memory in KiB. Linux's getrusage keeps the parent's peak across
 * fork and exec, so a child spawned by a large parent would report the parent's; VmHWM does not.
 */
export function peakRssKb(): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]);
  } catch {
    // not Linux: fall back to getrusage
  }
  return process.resourceUsage().maxRSS;
}
