import { Inject, Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ApiError, ErrorCode } from '../common/error-codes.js';
import { pathExists } from '../common/file-system.js';
import { assertUsableLocalPath } from '../common/local-path.js';
import { formatHeaderLines, parseHeaderLines } from '../common/header-lines.js';
import { normalizeFolder, resolveInside, sanitizeFileName } from '../common/path-safety.js';
import { validationError } from '../common/validation.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import type { DownloadEntity } from '../tasks/download.entity.js';
import { nameFromUrl } from '../engine/file-naming.js';
import { DownloadEvent } from '../events/download-events.js';
import { SchedulerService } from '../scheduler/scheduler.service.js';
import { TaskLogService } from '../scheduler/task-log.service.js';
import { nowIso } from '../common/iso-time.js';
import { DownloadRepository, type PageQuery, newDownload } from '../tasks/download.repository.js';
import { toDownloadTaskDto } from './download.mapper.js';
import { FilePresence } from './file-presence.js';
import { DownloadStatus } from '../tasks/download-status.enum.js';
import type { CreateDownloadItemDto, CreateDownloadsDto } from './dto/create-downloads.dto.js';
import type { DownloadLogDto, DownloadPageDto, DownloadTaskDto } from './dto/download-task.dto.js';
import type { ListDownloadsQueryDto } from './dto/list-downloads-query.dto.js';
import type { SetStatusDto } from './dto/set-status.dto.js';
import type { StartDownloadDto } from './dto/start-download.dto.js';
import type { UpdateDownloadDto } from './dto/update-download.dto.js';
import { urlProblem } from './dto/validators.js';

/** The task lifecycle as the API sees it; running is the scheduler's business. */
@Injectable()
export class DownloadsService {
  /** Ids whose start request is being written: a second start at the same moment is a no-op. */
  private readonly starting = new Set<number>();
  private readonly filePresence = new FilePresence();

  constructor(
    private readonly repository: DownloadRepository,
    private readonly scheduler: SchedulerService,
    private readonly taskLogs: TaskLogService,
    private readonly events: EventEmitter2,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async create(dto: CreateDownloadsDto): Promise<DownloadTaskDto[]> {
    const queuedAt = dto.startDownload ? nowIso : () => null;
    const saved = await this.repository.insertMany(dto.tasks.map((item) => newDownload(this.describeNewTask(item), queuedAt())));
    this.events.emit(DownloadEvent.Created, { ids: saved.map((task) => task.id), count: saved.length });
    if (dto.startDownload) for (const task of saved) this.scheduler.enqueue(task.id);
    return this.views(saved);
  }

  async page(query: ListDownloadsQueryDto): Promise<DownloadPageDto> {
    const filter: Pick<PageQuery, 'statuses' | 'excludeStatus'> =
      query.filter === 'done'
        ? { statuses: [DownloadStatus.Success] }
        : query.filter === 'list'
          ? { excludeStatus: DownloadStatus.Success }
          : query.filter
            ? { statuses: [query.filter as DownloadStatus] }
            : {};
    const under = query.localPath ? resolve(query.localPath) : null;
    const { total, list } = await this.repository.page({
      current: query.current ?? 1,
      pageSize: query.pageSize ?? 20,
      ...filter,
      under: under ? { directory: under, defaultDirectory: this.config.downloadDir } : undefined,
      search: query.search,
    });
    return { total, list: await this.views(list) };
  }

  async active(): Promise<DownloadTaskDto[]> {
    return this.views(await this.repository.findActive());
  }

  async get(id: number): Promise<DownloadTaskDto> {
    return this.view(await this.mustFind(id));
  }

  folders(): Promise<string[]> {
    return this.repository.folders();
  }

  async exportText(): Promise<string> {
    const urls = await this.repository.urlsNewestFirst();
    return urls.length ? `${urls.join('\n')}\n` : '';
  }

  async logs(id: number): Promise<DownloadLogDto> {
    await this.mustFind(id);
    return { id, log: await this.taskLogs.read(id) };
  }

  async remove(id: number, deleteFile: boolean): Promise<Record<string, never>> {
    await this.mustFind(id);
    await this.scheduler.stop(id, 'delete');
    // read after the stop: a run that finished meanwhile has placed its file
    const task = await this.mustFind(id);
    // files first: on a full disk, removing them is what makes room for the database write
    if (deleteFile) {
      if (task.file) {
        await rm(task.file, { force: true });
        this.filePresence.forget(task.file);
      }
      const workDir = await this.workDirOf(id, task.localPath, task.folder);
      if (workDir) await rm(workDir, { recursive: true, force: true });
    }
    await this.repository.delete(id);
    this.events.emit(DownloadEvent.Deleted, { id });
    await this.taskLogs.remove(id);
    return {};
  }

  async update(id: number, dto: UpdateDownloadDto): Promise<DownloadTaskDto> {
    const task = await this.mustFind(id);
    if (task.status === DownloadStatus.Downloading || this.scheduler.isRunning(id)) {
      throw new ApiError(409, ErrorCode.TaskRunning, `Task ${id} is downloading; stop it before editing it`);
    }
    const patch: Partial<DownloadEntity> = {};
    if (dto.url !== undefined) {
      const problem = urlProblem(dto.url, task.type);
      if (problem) throw validationError([{ path: 'url', message: `url ${problem}` }]);
      patch.url = dto.url.trim();
    }
    if (dto.name !== undefined) {
      // null or blank: the name is derived from the URL again
      const given = dto.name?.trim() ?? '';
      patch.name = given ? sanitizeFileName(given) : sanitizeFileName(nameFromUrl(patch.url ?? task.url));
      patch.nameIsDerived = !given;
    }
    if (dto.headers !== undefined) patch.headers = formatHeaderLines(parseHeaderLines(dto.headers));
    if (dto.speedLimit !== undefined) patch.speedLimit = dto.speedLimit || null;
    if (dto.folder !== undefined) {
      patch.folder = normalizeFolder(dto.folder);
      await this.moveWorkDir(task, task.localPath, patch.folder);
    }
    if (Object.keys(patch).length > 0) {
      await this.repository.update(id, patch);
      this.events.emit(DownloadEvent.Updated, { id });
    }
    return this.get(id);
  }

  async setLive(id: number, isLive: boolean): Promise<DownloadTaskDto> {
    await this.mustFind(id);
    await this.repository.update(id, { isLive });
    this.events.emit(DownloadEvent.Updated, { id });
    return this.get(id);
  }

  async setStatus(dto: SetStatusDto): Promise<DownloadTaskDto[]> {
    const ids = [...new Set(dto.ids)];
    const tasks = await this.repository.findByIds(ids);
    const missing = ids.filter((id) => !tasks.some((task) => task.id === id));
    if (missing.length > 0) throw new ApiError(404, ErrorCode.DownloadNotFound, `No task with id ${missing.join(', ')}; nothing was changed`);
    if (dto.status === DownloadStatus.Success || dto.status === DownloadStatus.Failed) {
      const running = ids.filter((id) => this.scheduler.isRunning(id));
      if (running.length > 0) throw new ApiError(409, ErrorCode.TaskRunning, `Task ${running.join(', ')} is downloading; stop it first. Nothing was changed`);
      for (const id of ids) await this.scheduler.stop(id, 'delete');
      await this.repository.updateMany(ids, {
        status: dto.status,
        queuedAt: null,
        error: dto.status === DownloadStatus.Failed ? 'marked failed by a client' : null,
      });
      for (const id of ids) this.events.emit(DownloadEvent.Updated, { id });
    } else if (dto.status === DownloadStatus.Waiting) {
      for (const id of ids) await this.start(id, {});
    } else {
      for (const id of ids) await this.stop(id);
    }
    const updated = await this.repository.findByIds(ids);
    return this.views(ids.map((id) => updated.find((task) => task.id === id)!));
  }

  async start(id: number, dto: StartDownloadDto): Promise<DownloadTaskDto> {
    const task = await this.mustFind(id);
    // a start already under way for this id (two requests at once) changes nothing either
    if (this.scheduler.isActive(id) || this.starting.has(id)) return this.view(task);
    this.starting.add(id);
    try {
      const localPath = dto.localPath !== undefined && dto.localPath !== null ? resolve(dto.localPath) : task.localPath;
      if (localPath !== task.localPath) await assertUsableLocalPath(localPath!);
      await this.moveWorkDir(task, localPath, task.folder);
      const again = task.status === DownloadStatus.Success;
      await this.repository.update(id, {
        status: DownloadStatus.Waiting,
        queuedAt: nowIso(),
        error: null,
        localPath,
        deleteSegments: dto.deleteSegments ?? true,
        ...(dto.speedLimit !== undefined ? { speedLimit: dto.speedLimit || null } : {}),
        ...(again ? { file: null, downloadedBytes: 0, totalBytes: null, percent: null } : {}),
      });
      this.taskLogs.append(id, 'queued by a client');
      this.events.emit(DownloadEvent.Updated, { id });
      this.scheduler.enqueue(id, again ? task.file : null);
    } finally {
      this.starting.delete(id);
    }
    return this.get(id);
  }

  /** Partial data follows the task when its directory changes, so that a later start resumes it. */
  private async moveWorkDir(task: DownloadEntity, localPath: string | null, folder: string): Promise<void> {
    const from = await this.workDirOf(task.id, task.localPath, task.folder);
    const to = await this.workDirOf(task.id, localPath, folder);
    if (!from || !to || from === to || !(await pathExists(from))) return;
    await mkdir(dirname(to), { recursive: true });
    await rm(to, { recursive: true, force: true });
    try {
      await rename(from, to);
      this.taskLogs.append(task.id, 'the partial data moved with the task to its new directory');
    } catch {
      // another file system: the data cannot follow cheaply, so it is dropped rather than left behind
      await rm(from, { recursive: true, force: true });
      this.taskLogs.append(task.id, 'the new directory is on another file system: the download starts over there');
    }
  }

  private async workDirOf(id: number, localPath: string | null, folder: string): Promise<string | null> {
    const outputDir = await resolveInside(localPath ?? this.config.downloadDir, folder || '.').catch(() => null);
    return outputDir ? join(outputDir, `.mediago-task-${id}`) : null;
  }

  async stop(id: number): Promise<Record<string, never>> {
    await this.mustFind(id);
    await this.scheduler.stop(id, 'client');
    return {};
  }

  private describeNewTask(item: CreateDownloadItemDto) {
    const url = item.url.trim();
    const given = item.name?.trim();
    return {
      type: item.type,
      url,
      name: sanitizeFileName(given || nameFromUrl(url)),
      nameIsDerived: !given,
      folder: normalizeFolder(item.folder),
      headers: formatHeaderLines(parseHeaderLines(item.headers)),
      isLive: item.isLive ?? false,
      speedLimit: item.speedLimit || null,
    };
  }

  private async mustFind(id: number): Promise<DownloadEntity> {
    const task = await this.repository.findById(id);
    if (!task) throw new ApiError(404, ErrorCode.DownloadNotFound, `No task with id ${id}`);
    return task;
  }

  private async view(task: DownloadEntity): Promise<DownloadTaskDto> {
    return (await this.views([task]))[0];
  }

  /** Task views with `exists` answered for all of them in one parallel, cached round of file checks. */
  private async views(tasks: DownloadEntity[]): Promise<DownloadTaskDto[]> {
    const files = tasks.filter((task) => task.status === DownloadStatus.Success && task.file).map((task) => task.file!);
    const present = files.length > 0 ? await this.filePresence.check(files) : new Map<string, boolean>();
    return tasks.map((task) => toDownloadTaskDto(task, this.config.downloadDir, this.scheduler.liveProgress(task.id), task.file !== null && present.get(task.file) === true));
  }
}
