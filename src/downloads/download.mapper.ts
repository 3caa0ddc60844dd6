import type { DownloadEntity } from '../tasks/download.entity.js';
import type { LiveProgress } from '../scheduler/speed-meter.js';
import { DownloadStatus } from '../tasks/download-status.enum.js';
import type { DownloadTaskDto } from './dto/download-task.dto.js';
import { storedLanguages } from '../config/media-choice.js';

/** The contract's view of a task: stored fields, plus live figures while it runs; `fileOnDisk` is whether its file is there now. */
export function toDownloadTaskDto(task: DownloadEntity, defaultDirectory: string, live: LiveProgress | null, fileOnDisk: boolean): DownloadTaskDto {
  const succeeded = task.status === DownloadStatus.Success;
  // figures published during a run say nothing once it has ended
  if (task.status !== DownloadStatus.Downloading) live = null;
  return {
    id: task.id,
    name: task.name,
    type: task.type,
    url: task.url,
    folder: task.folder,
    headers: task.headers,
    isLive: task.isLive,
    status: task.status,
    file: task.file,
    createdDate: task.createdDate,
    updatedDate: task.updatedDate,
    exists: succeeded && task.file !== null && fileOnDisk,
    queuedAt: task.queuedAt,
    localPath: task.localPath ?? defaultDirectory,
    deleteSegments: task.deleteSegments,
    percent: live ? live.percent : succeeded ? 100 : task.percent,
    speed: live ? live.speed : 0,
    downloadedBytes: live ? live.downloadedBytes : task.downloadedBytes,
    totalBytes: live ? live.totalBytes : task.totalBytes,
    eta: live ? live.eta : succeeded ? 0 : null,
    error: task.error,
    speedLimit: task.speedLimit,
    quality: task.quality,
    audioLanguage: storedLanguages(task.audioLanguage),
    subtitleLanguages: storedLanguages(task.subtitleLanguages),
    outputs: task.outputs.length > 0 ? task.outputs : task.file ? [task.file] : [],
    node: task.status === DownloadStatus.Downloading ? task.ownerNode : task.fileNode,
  };
}
