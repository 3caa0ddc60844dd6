import { Inject, Injectable } from '@nestjs/common';
import { resolve } from 'node:path';
import { ApiError, ErrorCode } from '../common/error-codes.js';
import { formatHeaderLines, parseHeaderLines } from '../common/header-lines.js';
import { normalizeFolder, sanitizeFileName } from '../common/path-safety.js';
import { validationError } from '../common/validation.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import type { DownloadEntity } from '../tasks/download.entity.js';
import { nameFromUrl } from '../engine/file-naming.js';
import { TaskLifecycleService } from '../lifecycle/task-lifecycle.service.js';
import { TaskLogService } from '../scheduler/task-log.service.js';
import { nowIso } from '../common/iso-time.js';
import { DownloadRepository, type PageQuery, type TaskDescriptionEdit, newDownload } from '../tasks/download.repository.js';
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
import type { ResolveLinkDto, ResolvedLinkDto } from './dto/resolve-link.dto.js';
import { LinkResolutionService, type TaskDescription } from './link-resolution.service.js';
import { languagesText, parseLanguages, parseQuality, qualityText } from '../config/media-choice.js';
import type { MediaChoiceColumns } from '../tasks/download.repository.js';

/**
 * The API's side of tasks: reads and views come from the store, every change is a command to the lifecycle,
 * described from the request here (names, folders, headers normalised) and decided there.
 */
@Injectable()
export class DownloadsService {
  private readonly filePresence = new FilePresence();

  constructor(
    private readonly repository: DownloadRepository,
    private readonly lifecycle: TaskLifecycleService,
    private readonly taskLogs: TaskLogService,
    private readonly links: LinkResolutionService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async create(dto: CreateDownloadsDto): Promise<DownloadTaskDto[]> {
    const queuedAt = dto.startDownload ? nowIso : () => null;
    let descriptions = dto.tasks.map((item) => this.describeNewTask(item));
    if (dto.tasks.some((item) => item.expand === true)) descriptions = await this.links.expand(descriptions, dto.tasks.map((item) => item.expand === true));
    const saved = await this.lifecycle.create(
      descriptions.map((description) => newDownload(description, queuedAt())),
      dto.startDownload === true,
    );
    return this.views(saved);
  }

  /** What a link holds, without creating anything. */
  resolve(dto: ResolveLinkDto): Promise<ResolvedLinkDto> {
    return this.links.resolve({ type: dto.type, url: dto.url.trim(), headers: dto.headers });
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
    const file = await this.lifecycle.delete(id, deleteFile);
    if (file) this.filePresence.forget(file);
    return {};
  }

  async update(id: number, dto: UpdateDownloadDto): Promise<DownloadTaskDto> {
    await this.lifecycle.edit(id, (task) => {
      const edit: TaskDescriptionEdit = {};
      if (dto.url !== undefined) {
        const problem = urlProblem(dto.url, task.type);
        if (problem) throw validationError([{ path: 'url', message: `url ${problem}` }]);
        edit.url = dto.url.trim();
      }
      if (dto.name !== undefined) {
        // null or blank: the name is derived from the URL again
        const given = dto.name?.trim() ?? '';
        edit.name = given ? sanitizeFileName(given) : sanitizeFileName(nameFromUrl(edit.url ?? task.url));
        edit.nameIsDerived = !given;
      }
      if (dto.headers !== undefined) edit.headers = formatHeaderLines(parseHeaderLines(dto.headers));
      if (dto.speedLimit !== undefined) edit.speedLimit = dto.speedLimit || null;
      Object.assign(edit, choiceColumns(dto));
      if (dto.folder !== undefined) edit.folder = normalizeFolder(dto.folder);
      return edit;
    });
    if (dto.expand === true) await this.expandTask(id, false);
    return this.get(id);
  }

  async setLive(id: number, isLive: boolean): Promise<DownloadTaskDto> {
    await this.lifecycle.setLive(id, isLive);
    return this.get(id);
  }

  async setStatus(dto: SetStatusDto): Promise<DownloadTaskDto[]> {
    const ids = [...new Set(dto.ids)];
    const tasks = await this.repository.findByIds(ids);
    const missing = ids.filter((id) => !tasks.some((task) => task.id === id));
    if (missing.length > 0) throw new ApiError(404, ErrorCode.DownloadNotFound, `No task with id ${missing.join(', ')}; nothing was changed`);
    if (dto.status === DownloadStatus.Success || dto.status === DownloadStatus.Failed) await this.lifecycle.mark(ids, dto.status);
    else if (dto.status === DownloadStatus.Waiting) for (const id of ids) await this.lifecycle.start(id, {});
    else for (const id of ids) await this.lifecycle.stop(id);
    const updated = await this.repository.findByIds(ids);
    return this.views(ids.map((id) => updated.find((task) => task.id === id)!));
  }

  async start(id: number, dto: StartDownloadDto): Promise<DownloadTaskDto> {
    // a running task is not expanded: starting it stays the no-op it is
    if (dto.expand === true && (await this.mustFind(id)).status !== DownloadStatus.Downloading) await this.expandTask(id, true);
    await this.lifecycle.start(id, { localPath: dto.localPath, deleteSegments: dto.deleteSegments, speedLimit: dto.speedLimit, choice: choiceColumns(dto) });
    return this.get(id);
  }

  async stop(id: number): Promise<Record<string, never>> {
    await this.lifecycle.stop(id);
    return {};
  }

  /**
   * `expand` on an existing task: when its link holds several entries, the task becomes the first (an edit) and
   * one new task is made for each other, after it (one download-create; queued when `queue`).
   */
  private async expandTask(id: number, queue: boolean): Promise<void> {
    const task = await this.mustFind(id);
    const description: TaskDescription = {
      type: task.type,
      url: task.url,
      name: task.name,
      nameIsDerived: task.nameIsDerived,
      folder: task.folder,
      headers: task.headers,
      isLive: task.isLive,
      speedLimit: task.speedLimit,
    };
    const [first, ...others] = await this.links.expand([description], [true], '');
    if (others.length === 0) return;
    await this.lifecycle.edit(id, () => ({ url: first.url, name: first.name, nameIsDerived: first.nameIsDerived }));
    const queuedAt = queue ? nowIso : () => null;
    await this.lifecycle.create(others.map((other) => newDownload(other, queuedAt())), queue);
  }

  private describeNewTask(item: CreateDownloadItemDto): TaskDescription {
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
      ...choiceColumns(item),
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
    return tasks.map((task) => toDownloadTaskDto(task, this.config.downloadDir, this.lifecycle.liveProgress(task.id), task.file !== null && present.get(task.file) === true));
  }
}

/** The media choice a request gives, as stored: a field not given stays undefined, null is "the installation's default". */
export function choiceColumns(dto: { quality?: unknown; audioLanguage?: unknown; subtitleLanguages?: unknown }): Partial<MediaChoiceColumns> {
  const columns: Partial<MediaChoiceColumns> = {};
  // the DTO validated every given value: the parses below cannot fail
  if (dto.quality !== undefined) columns.quality = dto.quality === null ? null : qualityText(parseQuality(dto.quality)!);
  if (dto.audioLanguage !== undefined) columns.audioLanguage = dto.audioLanguage === null ? null : languagesText(parseLanguages(dto.audioLanguage)!);
  if (dto.subtitleLanguages !== undefined) columns.subtitleLanguages = dto.subtitleLanguages === null ? null : languagesText(parseLanguages(dto.subtitleLanguages)!);
  return columns;
}
