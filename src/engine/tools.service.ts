import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { execFile } from 'node:child_process';
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
  /** yt-dlp only: a version with a known security flaw; `warning` says which and what to do */
  outdated?: boolean;
  warning?: string;
}

/** The first yt-dlp release that no longer sends a task's cookies to other hosts on redirect. */
export const YTDLP_FIXED_VERSION = '2023.07.06';

/** Whether a yt-dlp version (YYYY.MM.DD, maybe with a build suffix) predates the CVE-2023-35934 fix; null when unreadable. */
export function ytdlpPredatesCookieFix(version: string): boolean | null {
  const parts = /^(\d{4})\.(\d{1,2})\.(\d{1,2})/.exec(version.trim());
  if (!parts) return null;
  const [year, month, day] = parts.slice(1).map(Number);
  const [fixedYear, fixedMonth, fixedDay] = YTDLP_FIXED_VERSION.split('.').map(Number);
  return year * 10_000 + month * 100 + day < fixedYear * 10_000 + fixedMonth * 100 + fixedDay;
}

function ytdlpStatus(version: string | null): ToolStatus {
  if (version === null || !ytdlpPredatesCookieFix(version)) return { found: true, version };
  return {
    found: true,
    version,
    outdated: true,
    warning: `yt-dlp ${version} is older than ${YTDLP_FIXED_VERSION} and sends cookies and credentials to other hosts on redirect (CVE-2023-35934); this service passes cookies scoped to the task's host, but update yt-dlp (pip install -U yt-dlp)`,
  };
}

/** The external programs some strategies use (ffmpeg, ffprobe, yt-dlp), located once. */
@Injectable()
export class ToolsService implements OnModuleInit {
  readonly ffmpeg: string | null;
  readonly ffprobe: string | null;
  readonly ytdlp: string | null;
  private versions: Promise<Record<string, ToolStatus>> | null = null;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.ffmpeg = findExecutable('ffmpeg', config.ffmpegPath);
    this.ffprobe = config.ffmpegPath ? findExecutable(config.ffmpegPath.replace(/ffmpeg(\.exe)?$/, 'ffprobe$1'), null) ?? findExecutable('ffprobe', null) : findExecutable('ffprobe', null);
    this.ytdlp = findExecutable('yt-dlp', config.ytdlpPath);
  }

  /**
   * Asks the tools their versions while the rest of the service starts: yt-dlp is a Python program that
   * takes half a second or more to print one, which the first /healthy would otherwise wait for.
   */
  onModuleInit(): void {
    void this.status();
  }

  /** What /healthy reports: which optional tools were found, and their versions (read once, without blocking the event loop). */
  status(): Promise<Record<string, ToolStatus>> {
    this.versions ??= Promise.all([
      this.ffmpeg ? readVersion(this.ffmpeg, ['-version'], /ffmpeg version (\S+)/) : null,
      this.ytdlp ? readVersion(this.ytdlp, ['--version'], /^(\S+)/) : null,
    ]).then(([ffmpeg, ytdlp]) => ({
      ffmpeg: { found: this.ffmpeg !== null, version: ffmpeg },
      ytdlp: this.ytdlp ? ytdlpStatus(ytdlp) : { found: false, version: null },
    }));
    return this.versions;
  }
}

/** The version a tool prints, or null when it cannot be read (it failed, hung for 10 s, or printed something else). */
function readVersion(path: string, args: string[], pattern: RegExp): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(path, args, { encoding: 'utf8', timeout: 10_000 }, (_error, stdout) => resolve(pattern.exec(stdout ?? '')?.[1] ?? null));
  });
}
