import { type Task, api, unwrap } from './client';
import type { components } from './schema';
import type { TaskType } from '../add/detect-type';

/** Status tabs of the list; `all` sends no filter. */
export type StatusFilter = 'all' | 'downloading' | 'waiting' | 'success' | 'failed' | 'stopped';

export interface NewTask {
  type: TaskType;
  url: string;
  name?: string;
  folder?: string;
  headers?: string;
  isLive: boolean;
  /** "best", "audio" or a maximum picture height; left out: the service's default */
  quality?: string | number;
  /** BCP-47 tags, best first, as "ja,en"; left out: the service's default */
  audioLanguage?: string;
  subtitleLanguages?: string;
  /** one task per entry of a playlist or channel link */
  expand?: boolean;
}

export interface TaskEdit {
  name?: string;
  url?: string;
  folder?: string;
  headers?: string;
}

export type ServiceSettings = components['schemas']['SettingsViewDto'];

/** What a link holds (POST /api/downloads/resolve): its entries, each a link a task of the same type downloads alone. */
export type ResolvedLink = components['schemas']['ResolvedLinkDto'];

export type Counts = Record<Exclude<StatusFilter, 'all'>, number> & { total: number };

/** Every call the dashboard makes, through the generated client: nothing other clients could not call. */
export const tasksApi = {
  page: (current: number, pageSize: number, filter: StatusFilter, search: string) =>
    unwrap<{ total: number; list: Task[] }>(
      api.GET('/api/downloads', {
        params: { query: { current, pageSize, ...(filter === 'all' ? {} : { filter }), ...(search ? { search } : {}) } },
      }),
    ),
  stats: () => unwrap<{ counts: Counts; speed: number }>(api.GET('/api/stats')),
  folders: () => unwrap<string[]>(api.GET('/api/downloads/folders')),
  create: (tasks: NewTask[], startDownload: boolean) => unwrap<Task[]>(api.POST('/api/downloads', { body: { tasks, startDownload } })),
  resolve: (type: TaskType, url: string, headers?: string) =>
    unwrap<ResolvedLink>(api.POST('/api/downloads/resolve', { body: { type, url, ...(headers ? { headers } : {}) } })),
  start: (id: number) => unwrap<Task>(api.POST('/api/downloads/{id}/start', { params: { path: { id } } })),
  stop: (id: number) => unwrap<object>(api.POST('/api/downloads/{id}/stop', { params: { path: { id } } })),
  remove: (id: number, deleteFile: boolean) =>
    unwrap<object>(api.DELETE('/api/downloads/{id}', { params: { path: { id }, query: { deleteFile } } })),
  edit: (id: number, edit: TaskEdit) => unwrap<Task>(api.PUT('/api/downloads/{id}', { params: { path: { id } }, body: edit as never })),
  setLive: (id: number, isLive: boolean) =>
    unwrap<Task>(api.PUT('/api/downloads/{id}/live', { params: { path: { id } }, body: { isLive } as never })),
  logs: (id: number) => unwrap<{ id: number; log: string }>(api.GET('/api/downloads/{id}/logs', { params: { path: { id } } })),
  settings: () => unwrap<ServiceSettings>(api.GET('/api/settings')),
  health: async () => {
    const response = await fetch('/healthy');
    return ((await response.json()) as { data: components['schemas']['HealthDto'] }).data;
  },
};
