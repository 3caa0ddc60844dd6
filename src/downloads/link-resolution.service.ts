import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DownloadType } from '../common/download-type.enum.js';
import { ApiError, ErrorCode } from '../common/error-codes.js';
import { forwardableHeaders, parseHeaderLines } from '../common/header-lines.js';
import { sanitizeFileName } from '../common/path-safety.js';
import { validationError } from '../common/validation.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DownloaderRegistry } from '../downloaders/downloader.registry.js';
import { isAbortError } from '../engine/abort.js';
import { AddressNotAllowedError } from '../engine/address-guard.js';
import { nameFromUrl } from '../engine/file-naming.js';
import { HttpError, PermanentError, describeError, redactUrl } from '../engine/http-error.js';
import { RESOLVE_ENTRY_LIMIT, type ResolvedLink } from '../engine/resolved-link.js';
import type { ResolvedLinkDto } from './dto/resolve-link.dto.js';

/** Items with `expand` resolved at once within one create request. */
const EXPAND_CONCURRENCY = 4;
/** Tasks one create request may make once its links are expanded. */
export const MAX_EXPANDED_TASKS = 5000;
/** Characters of a title kept before " - 01 Part": the number must survive the file-name limit. */
const BASE_TITLE_CHARACTERS = 120;

type HeaderPairs = Array<[string, string]>;

export interface LinkToResolve {
  type: DownloadType;
  url: string;
  /** As the client gave them (lines, an array or an object); hop-by-hop headers are dropped as for a task. */
  headers: unknown;
}

/** A new task's description, as DownloadsService builds it from a create item. */
export interface TaskDescription {
  type: DownloadType;
  url: string;
  name: string;
  nameIsDerived: boolean;
  folder: string;
  headers: string;
  isLive: boolean;
  speedLimit: number | null;
}

/**
 * Asks the type's strategy what a link holds, within RESOLVE_TIMEOUT_MS, and turns what it says into an answer
 * or into task descriptions (one per entry). A link that cannot be read is a 400 with the reason, never a 5xx.
 */
@Injectable()
export class LinkResolutionService {
  private readonly logger = new Logger('Resolve');

  constructor(
    private readonly registry: DownloaderRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async resolve(link: LinkToResolve): Promise<ResolvedLinkDto> {
    const resolved = await this.resolveWithin(link, AbortSignal.timeout(this.config.resolveTimeoutMs), '');
    return { type: link.type, url: link.url, ...resolved, limit: RESOLVE_ENTRY_LIMIT };
  }

  /**
   * Each description whose item asked for `expand` becomes one per entry of its link (in order), the others
   * stay as they are. All links of one request share one deadline and are read a few at a time.
   */
  async expand(descriptions: TaskDescription[], expand: boolean[], where = 'tasks'): Promise<TaskDescription[]> {
    const budget = AbortSignal.timeout(this.config.resolveTimeoutMs);
    const results: TaskDescription[][] = descriptions.map((description) => [description]);
    const pending = descriptions.map((_, index) => index).filter((index) => expand[index]);
    const worker = async () => {
      for (let index = pending.shift(); index !== undefined; index = pending.shift()) {
        const description = descriptions[index];
        const link = await this.resolveWithin({ type: description.type, url: description.url, headers: description.headers }, budget, where ? `${where}[${index}]: ` : '');
        results[index] = expandedDescriptions(description, link);
      }
    };
    await Promise.all(Array.from({ length: Math.min(EXPAND_CONCURRENCY, pending.length) }, worker));
    const all = results.flat();
    if (all.length > MAX_EXPANDED_TASKS) {
      throw validationError([{ path: 'tasks', message: `tasks expand to ${all.length} tasks; one request creates at most ${MAX_EXPANDED_TASKS}` }]);
    }
    return all;
  }

  private async resolveWithin(link: LinkToResolve, budget: AbortSignal, where: string): Promise<ResolvedLink> {
    try {
      const headers: HeaderPairs = forwardableHeaders(parseHeaderLines(link.headers)).forwarded;
      return await this.registry.resolve(
        { type: link.type, url: link.url.trim(), headers, limit: RESOLVE_ENTRY_LIMIT },
        { signal: budget, log: (line) => this.logger.debug(`${redactUrl(link.url)}: ${line}`) },
      );
    } catch (error) {
      throw this.failure(error, link, budget, where);
    }
  }

  /** The 400 a failed resolve answers; an unexpected fault stays what it is. */
  private failure(error: unknown, link: LinkToResolve, budget: AbortSignal, where: string): unknown {
    if (error instanceof ApiError) return error;
    const shown = redactUrl(link.url);
    if (budget.aborted && (isAbortError(error) || error === budget.reason || (error as { name?: string }).name === 'TimeoutError')) {
      return new ApiError(400, ErrorCode.ResolveFailed, `${where}${shown} could not be resolved within ${formatSeconds(this.config.resolveTimeoutMs)} (RESOLVE_TIMEOUT_MS)`);
    }
    if (error instanceof AddressNotAllowedError) return new ApiError(400, ErrorCode.AddressNotAllowed, `${where}${error.message}`);
    // what the origin or the tool said: a refused page, an error status, a network failure, unsupported content
    if (error instanceof PermanentError || error instanceof HttpError || typeof (error as { code?: unknown }).code === 'string') {
      return new ApiError(400, ErrorCode.ResolveFailed, `${where}${shown} could not be resolved: ${describeError(error)}`);
    }
    return error;
  }
}

/** One description per entry, named "Title - 01 Entry"; a link that is one thing keeps its URL and gains its title. */
export function expandedDescriptions(description: TaskDescription, link: ResolvedLink): TaskDescription[] {
  const base = (description.nameIsDerived ? link.title || description.name : description.name).slice(0, BASE_TITLE_CHARACTERS).trim();
  if (link.entries.length <= 1) {
    return [{ ...description, name: description.nameIsDerived && link.title ? sanitizeFileName(link.title) : description.name }];
  }
  const width = Math.max(2, String(Math.max(...link.entries.map((entry) => entry.number))).length);
  return link.entries.map((entry) => {
    const part = entry.title && entry.title !== base ? ` ${entry.title}` : '';
    return {
      ...description,
      url: entry.url,
      name: sanitizeFileName(`${base || nameFromUrl(description.url)} - ${String(entry.number).padStart(width, '0')}${part}`),
      nameIsDerived: false,
    };
  });
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
