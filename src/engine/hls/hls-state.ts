import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { readStateFile, writeStateFile } from '../task-workspace.js';
import type { MediaSegment } from './playlist.js';

/** A live segment as recorded, kept across runs so that a resumed recording continues the same file. */
export interface RecordedSegment {
  sequence: number;
  discontinuity: boolean;
  file: string;
  init: string | null;
  /** Seconds, from the live playlist (absent in state written before durations were kept). */
  duration?: number;
}

/** The small manifest kept in workDir: what the segment files on disk belong to. */
export interface HlsState {
  version: 1;
  /** Identifies the stream (segment paths and ranges, query strings left out since tokens change between runs). */
  fingerprint: string;
  live: Record<string, RecordedSegment[]> | null;
}

const STATE_FILE = 'hls-state.json';

export function statePath(workDir: string): string {
  return join(workDir, STATE_FILE);
}

export async function readState(workDir: string): Promise<HlsState | null> {
  const state = await readStateFile<HlsState>(statePath(workDir));
  return state?.version === 1 && typeof state.fingerprint === 'string' ? state : null;
}

/** Written under a temporary name and renamed, so a crash never leaves half a manifest. */
export async function writeState(workDir: string, state: HlsState): Promise<void> {
  await writeStateFile(statePath(workDir), state);
}

/** Same stream, same segments: paths, ranges and sequence numbers, ignoring query strings. */
export function fingerprint(parts: Array<{ kind: string; segments: MediaSegment[] } | { kind: string; url: string }>): string {
  const hash = createHash('sha1');
  for (const part of parts) {
    hash.update(`${part.kind}\n`);
    if ('url' in part) hash.update(`${withoutQuery(part.url)}\n`);
    else for (const segment of part.segments) hash.update(`${segment.sequence} ${withoutQuery(segment.url)} ${segment.range?.offset ?? ''}-${segment.range?.length ?? ''}\n`);
  }
  return hash.digest('hex');
}

function withoutQuery(url: string): string {
  const cut = url.search(/[?#]/);
  return cut === -1 ? url : url.slice(0, cut);
}
