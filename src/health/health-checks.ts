import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { dataDirFloor, formatBytes, freeBytes } from '../common/disk-space.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import type { ToolStatus } from '../engine/tools.service.js';

/** Checks are this fresh at most: /healthy answers from memory between them. */
const CACHE_MS = 5_000;

const TOOL_EFFECTS: Record<string, string> = {
  ffmpeg: 'ffmpeg was not found: HLS, DASH and Bilibili downloads cannot be merged',
  ytdlp: 'yt-dlp was not found: "youtube" tasks cannot run',
};

/** Why the service is degraded: missing tools, and disks below MIN_FREE_SPACE (queued tasks wait there). */
export function degradedReasons(tools: Record<string, ToolStatus>, free: Array<{ name: string; bytes: number | null }>, floor: number): string[] {
  const reasons = Object.entries(tools)
    .filter(([, status]) => !status.found)
    .map(([name]) => TOOL_EFFECTS[name] ?? `${name} was not found`);
  for (const place of free) {
    const needed = place.name === 'DATA_DIR' ? dataDirFloor(floor) : floor;
    if (place.bytes !== null && place.bytes < needed) {
      reasons.push(`only ${formatBytes(place.bytes)} free in ${place.name}, less than MIN_FREE_SPACE (${formatBytes(needed)}): queued tasks wait until space is freed`);
    }
  }
  return reasons;
}

/** Free space of DOWNLOAD_DIR and DATA_DIR, measured at most every few seconds and shared by every probe. */
@Injectable()
export class DiskSpaceCheck {
  private cached: { at: number; free: Array<{ name: string; bytes: number | null }> } | null = null;
  private pending: Promise<Array<{ name: string; bytes: number | null }>> | null = null;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  get floor(): number {
    return this.config.minFreeSpaceBytes;
  }

  async free(): Promise<Array<{ name: string; bytes: number | null }>> {
    if (this.cached && Date.now() - this.cached.at < CACHE_MS) return this.cached.free;
    this.pending ??= this.measure().finally(() => (this.pending = null));
    return this.pending;
  }

  private async measure(): Promise<Array<{ name: string; bytes: number | null }>> {
    const places = [
      { name: 'DOWNLOAD_DIR', path: this.config.downloadDir },
      { name: 'DATA_DIR', path: this.config.dataDir },
    ];
    const free = await Promise.all(places.map(async ({ name, path }) => ({ name, bytes: await freeBytes(path).catch(() => null) })));
    this.cached = { at: Date.now(), free };
    return free;
  }
}

/** How long the store gets to answer a probe's SELECT 1. */
const DATABASE_TIMEOUT_MS = 2_000;

/** Whether the store answers: a SELECT 1 at most every few seconds, with a time limit. */
@Injectable()
export class DatabaseCheck {
  private answeredAt = 0;
  private pending: Promise<boolean> | null = null;

  constructor(private readonly dataSource: DataSource) {}

  async answers(): Promise<boolean> {
    if (Date.now() - this.answeredAt < CACHE_MS) return true;
    this.pending ??= this.probe().finally(() => (this.pending = null));
    return this.pending;
  }

  private async probe(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), DATABASE_TIMEOUT_MS)));
    const query = this.dataSource.isInitialized ? this.dataSource.query('SELECT 1').then(() => true, () => false) : Promise.resolve(false);
    const ok = await Promise.race([query, timeout]);
    clearTimeout(timer);
    if (ok) this.answeredAt = Date.now();
    return ok;
  }
}
