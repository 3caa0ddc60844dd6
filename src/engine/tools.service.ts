import { Inject, Injectable } from '@nestjs/common';
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';

/** Finds an executable: an explicit path if configured, else the first match on PATH. */
export function findExecutable(name: string, explicit: string | null, pathEnv = process.env.PATH ?? ''): string | null {
  const candidates = explicit ? [explicit] : pathEnv.split(delimiter).filter(Boolean).map((dir) => join(dir, name));
  for (const candidate of candidates) {
    if (explicit && !isAbsolute(candidate) && !candidate.includes('/')) {
      return findExecutable(candidate, null, pathEnv);
    }
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; try the next directory
    }
  }
  return null;
}

/** What /healthy says of a tool: whether it was found and its version; never where it lives on the server. */
export interface ToolStatus {
  found: boolean;
  version: string | null;
}

/** The external programs some strategies use (ffmpeg, ffprobe, yt-dlp), located once. */
@Injectable()
export class ToolsService {
  readonly ffmpeg: string | null;
  readonly ffprobe: string | null;
  readonly ytdlp: string | null;
  private versions: Record<string, ToolStatus> | null = null;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.ffmpeg = findExecutable('ffmpeg', config.ffmpegPath);
    this.ffprobe = config.ffmpegPath ? findExecutable(config.ffmpegPath.replace(/ffmpeg(\.exe)?$/, 'ffprobe$1'), null) ?? findExecutable('ffprobe', null) : findExecutable('ffprobe', null);
    this.ytdlp = findExecutable('yt-dlp', config.ytdlpPath);
  }

  /** What /healthy reports: which optional tools were found, and their versions. */
  status(): Record<string, ToolStatus> {
    if (!this.versions) {
      this.versions = {
        ffmpeg: { found: this.ffmpeg !== null, version: this.ffmpeg ? readVersion(this.ffmpeg, ['-version'], /ffmpeg version (\S+)/) : null },
        ytdlp: { found: this.ytdlp !== null, version: this.ytdlp ? readVersion(this.ytdlp, ['--version'], /^(\S+)/) : null },
      };
    }
    return this.versions;
  }
}

function readVersion(path: string, args: string[], pattern: RegExp): string | null {
  const result = spawnSync(path, args, { encoding: 'utf8', timeout: 10_000 });
  return pattern.exec(result.stdout ?? '')?.[1] ?? null;
}
