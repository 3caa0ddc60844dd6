import { Inject, Injectable } from '@nestjs/common';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { type RangeRequest, parseRange } from '../common/byte-range.js';
import { DownloadType } from '../common/download-type.enum.js';
import { ApiError, ErrorCode } from '../common/error-codes.js';
import { mediaTypeOf } from '../common/media-types.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { fileNameFromUrl } from '../engine/file-naming.js';
import { readPlainFileProgress } from '../engine/plain-file-download.js';
import {
  type StreamIndex,
  type StreamTrackIndex,
  availableSegmentCount,
  readStreamIndex,
  renderMasterPlaylist,
  renderMediaPlaylist,
  segmentExtension,
  workspaceFile,
} from '../engine/stream-index.js';
import { TaskWorkspace } from '../engine/task-workspace.js';
import { DownloadStatus } from '../tasks/download-status.enum.js';
import type { DownloadEntity } from '../tasks/download.entity.js';
import { DownloadRepository } from '../tasks/download.repository.js';

/** A raw answer of the stream routes: status, headers and a body to send as it is. */
export interface MediaAnswer {
  status: 200 | 206;
  headers: Record<string, string>;
  body: Readable | string;
}

export const PLAYLIST_TYPE = 'application/vnd.apple.mpegurl';

/** Types whose download lands as whole files muxed at the end: nothing of them plays before they finish. */
const NOT_GROWING: Partial<Record<DownloadType, string>> = {
  [DownloadType.Bilibili]: 'its video and audio are fetched as two whole files and muxed at the end',
  [DownloadType.Youtube]: 'yt-dlp fetches its video and audio as whole files and muxes them at the end',
};

/**
 * Play while downloading: a finished task's file, a plain download's completed prefix, or a segmented download's
 * segments on disk as a growing local HLS playlist. Reads task workspaces through engine helpers only; paths come
 * from the task and the workspace's own index, never from the request.
 */
@Injectable()
export class MediaStreamService {
  constructor(
    private readonly repository: DownloadRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** GET /api/downloads/:id/stream: the finished file, or while a plain download runs, its bytes complete from 0. */
  async file(id: number, rangeHeader: string | undefined): Promise<MediaAnswer> {
    const task = await this.mustFind(id);
    if (task.status === DownloadStatus.Success && task.file) {
      const found = await stat(task.file).catch(() => null);
      if (!found?.isFile()) throw notReady(`Task ${id} has finished, but its file is not on this node's disk${this.elsewhere(task.fileNode)}`);
      return serveBytes(task.file, found.size, mediaTypeOf(task.file), rangeHeader, {
        'last-modified': found.mtime.toUTCString(),
        etag: `"${found.size.toString(16)}-${Math.floor(found.mtimeMs).toString(16)}"`,
        'cache-control': 'no-cache',
      });
    }
    const workDir = await this.workDirOf(task);
    const progress = workDir ? await readPlainFileProgress(workDir) : null;
    if (progress && progress.prefixBytes > 0) {
      const name = fileNameFromUrl(progress.url) ?? '';
      // the prefix grows: a client asks again (with a Range from where it stopped) for more
      return serveBytes(progress.partPath, progress.prefixBytes, mediaTypeOf(name), rangeHeader, { 'cache-control': 'no-store' });
    }
    if (workDir && (await readStreamIndex(workDir))) throw notReady(`Task ${id} is a segmented download: while it runs, play /api/downloads/${id}/stream.m3u8`);
    throw notReady(this.nothingYet(task));
  }

  /** GET /api/downloads/:id/stream.m3u8: the segments on disk as an HLS playlist (a master one when audio is a track of its own). */
  async playlist(id: number, token: string | undefined): Promise<MediaAnswer> {
    const { task, index, workDir } = await this.indexed(id);
    const query = this.tokenQuery(token);
    const [main, audio] = playable(index);
    if (audio) {
      await this.playableCount(task, index, workDir, main);
      return playlistAnswer(renderMasterPlaylist(main, audio, `stream/tracks/${main.kind}.m3u8${query}`, `stream/tracks/${audio.kind}.m3u8${query}`));
    }
    return this.mediaPlaylist(task, index, workDir, main, 'stream/segments/', query);
  }

  /** GET /api/downloads/:id/stream/tracks/:track: one track's playlist, named by the master playlist. */
  async trackPlaylist(id: number, name: string, token: string | undefined): Promise<MediaAnswer> {
    const { task, index, workDir } = await this.indexed(id);
    const track = playable(index).find((candidate) => `${candidate.kind}.m3u8` === name);
    if (!track) throw new ApiError(404, ErrorCode.SegmentNotFound, `Task ${id} has no track playlist "${name}"`);
    return this.mediaPlaylist(task, index, workDir, track, '../segments/', this.tokenQuery(token));
  }

  /** GET /api/downloads/:id/stream/segments/:name: a segment (or init section) the playlist lists, looked up by name. */
  async segment(id: number, name: string, rangeHeader: string | undefined): Promise<MediaAnswer> {
    const { index, workDir } = await this.indexed(id);
    const missing = () => new ApiError(404, ErrorCode.SegmentNotFound, `Task ${id} has no segment "${name.slice(0, 80)}" on disk`);
    const match = /^(video|audio)-(init-)?(\d{1,9})\.([a-z0-9]{1,5})$/.exec(name);
    const track = match ? playable(index).find((candidate) => candidate.kind === match[1]) : undefined;
    if (!match || !track) throw missing();
    const position = Number(match[3]);
    let file: string | undefined;
    if (match[2]) file = match[4] === 'mp4' ? track.inits[position] : undefined;
    else if (position < track.segments.length && segmentExtension(track, position) === match[4]) file = track.segments[position].file;
    const path = file === undefined ? null : workspaceFile(workDir, file);
    const found = path ? await stat(path).catch(() => null) : null;
    if (!path || !found?.isFile()) throw missing();
    return serveBytes(path, found.size, mediaTypeOf(name), rangeHeader, { 'cache-control': 'no-cache' });
  }

  private async mediaPlaylist(task: DownloadEntity, index: StreamIndex, workDir: string, track: StreamTrackIndex, base: string, query: string): Promise<MediaAnswer> {
    const count = await this.playableCount(task, index, workDir, track);
    // complete once every planned segment is on disk (a VOD download then only merges), or a recording has finished
    const ended = task.status === DownloadStatus.Success || (!index.live && count === track.segments.length);
    const text = renderMediaPlaylist(track, count, ended, {
      segment: (position) => `${base}${track.kind}-${position}.${segmentExtension(track, position)}${query}`,
      init: (init) => `${base}${track.kind}-init-${init}.mp4${query}`,
    });
    return playlistAnswer(text);
  }

  /** Segments of the track on disk; refuses when there is none yet, or when a finished task's segments were removed. */
  private async playableCount(task: DownloadEntity, index: StreamIndex, workDir: string, track: StreamTrackIndex): Promise<number> {
    const count = await availableSegmentCount(workDir, track);
    if (task.status === DownloadStatus.Success && count < track.segments.length) {
      throw notReady(`Task ${task.id} has finished and its segments were removed: play its file at /api/downloads/${task.id}/stream`);
    }
    if (count === 0) throw notReady(`Task ${task.id} has no ${index.tracks.length > 1 ? `${track.kind} ` : ''}segment on disk yet; ask again in a moment`);
    return count;
  }

  private async indexed(id: number): Promise<{ task: DownloadEntity; index: StreamIndex; workDir: string }> {
    const task = await this.mustFind(id);
    const workDir = await this.workDirOf(task);
    const index = workDir ? await readStreamIndex(workDir) : null;
    if (workDir && index) return { task, index, workDir };
    if (task.status === DownloadStatus.Success) throw notReady(`Task ${id} has finished: play its file at /api/downloads/${id}/stream`);
    if (workDir && (await readPlainFileProgress(workDir))) throw notReady(`Task ${id} downloads a plain file: play /api/downloads/${id}/stream`);
    throw notReady(this.nothingYet(task));
  }

  private nothingYet(task: DownloadEntity): string {
    const reason = NOT_GROWING[task.type];
    if (reason && task.status !== DownloadStatus.Success) return `Task ${task.id} (${task.type}) cannot be played while it downloads: ${reason}; play it once it has finished`;
    return `Task ${task.id} has nothing to play yet (it is ${task.status})${this.elsewhere(task.ownerNode)}; ask again once it has downloaded some data`;
  }

  /** With several nodes, a task's data is on the disk of the node that runs or saved it, unless DOWNLOAD_DIR is shared. */
  private elsewhere(node: string | null): string {
    return node && node !== this.config.nodeId ? ` (its data is on node ${node}, unless DOWNLOAD_DIR is shared: ask that node)` : '';
  }

  /** The task's workspace directory, or null when its directory cannot be resolved (then nothing of it is on disk). */
  private async workDirOf(task: DownloadEntity): Promise<string | null> {
    const workspace = await TaskWorkspace.of(task.id, task.localPath ?? this.config.downloadDir, task.folder).catch(() => null);
    return workspace?.path ?? null;
  }

  /** A player cannot add headers to the URLs a playlist lists: the key it was given in the query goes along. */
  private tokenQuery(token: string | undefined): string {
    return this.config.apiKey && token ? `?token=${encodeURIComponent(token)}` : '';
  }

  private async mustFind(id: number): Promise<DownloadEntity> {
    const task = await this.repository.findById(id);
    if (!task) throw new ApiError(404, ErrorCode.DownloadNotFound, `No task with id ${id}`);
    return task;
  }
}

/** The main track, then an alternate audio track when the index has one beside a video track (subtitles are not played). */
function playable(index: StreamIndex): StreamTrackIndex[] {
  const [main, ...rest] = index.tracks;
  const audio = main.kind === 'video' ? rest.find((track) => track.kind === 'audio') : undefined;
  return audio ? [main, audio] : [main];
}

function notReady(message: string): ApiError {
  return new ApiError(409, ErrorCode.StreamNotReady, message);
}

function playlistAnswer(text: string): MediaAnswer {
  return { status: 200, headers: { 'content-type': PLAYLIST_TYPE, 'cache-control': 'no-store' }, body: text };
}

/** The first `size` bytes of a file, whole or the one range asked for (RFC 9110 §14). */
function serveBytes(path: string, size: number, contentType: string, rangeHeader: string | undefined, extra: Record<string, string>): MediaAnswer {
  const range: RangeRequest = parseRange(rangeHeader, size);
  const headers: Record<string, string> = { 'content-type': contentType, 'accept-ranges': 'bytes', ...extra };
  if (range.kind === 'unsatisfiable') {
    throw Object.assign(new ApiError(416, ErrorCode.RangeNotSatisfiable, `The range "${rangeHeader?.slice(0, 60)}" starts past the end: ${size} bytes can be served`), {
      headers: { 'content-range': `bytes */${size}` },
    });
  }
  if (range.kind === 'whole') {
    const body = size === 0 ? '' : createReadStream(path, { start: 0, end: size - 1 });
    return { status: 200, headers: { ...headers, 'content-length': String(size) }, body };
  }
  const { start, end } = range;
  return {
    status: 206,
    headers: { ...headers, 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': String(end - start + 1) },
    body: createReadStream(path, { start, end }),
  };
}
