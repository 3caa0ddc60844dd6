import type { ErrorCode } from '../common/error-codes.js';

/** The events the app raises inside (event-emitter names) and their payloads; the SSE edge maps them to the contract. */
export const DownloadEvent = {
  Created: 'download.created',
  Started: 'download.started',
  Succeeded: 'download.succeeded',
  Failed: 'download.failed',
  Stopped: 'download.stopped',
  Progress: 'download.progress',
  /** any other change of a task: edit, live flag, mark, requeue, file moved */
  Updated: 'download.updated',
  Deleted: 'download.deleted',
} as const;

export type DownloadEventName = (typeof DownloadEvent)[keyof typeof DownloadEvent];

/**
 * An event another node published (several nodes on one PostgreSQL database). Only event streams listen to it:
 * webhooks and metrics count what their own node runs.
 */
export const REMOTE_DOWNLOAD_EVENT = 'download.remote';

export interface RemoteDownloadEvent<K extends DownloadEventName = DownloadEventName> {
  name: K;
  payload: DownloadEventMap[K];
}

export interface DownloadProgressPayload {
  id: number;
  percent: number | null;
  speed: number;
  downloadedBytes: number;
  totalBytes: number | null;
  eta: number | null;
}

export interface DownloadEventMap {
  'download.created': { ids: number[]; count: number };
  'download.started': { id: number };
  'download.succeeded': { id: number };
  'download.failed': { id: number; error: string; errorCode: ErrorCode; dependency?: string };
  'download.stopped': { id: number };
  'download.progress': DownloadProgressPayload;
  'download.updated': { id: number };
  'download.deleted': { id: number };
}

/** The SSE event names of the contract. */
export const SSE_EVENT_NAMES: Record<DownloadEventName, string> = {
  'download.created': 'download-create',
  'download.started': 'download-start',
  'download.succeeded': 'download-success',
  'download.failed': 'download-failed',
  'download.stopped': 'download-stop',
  'download.progress': 'download-progress',
  'download.updated': 'download-update',
  'download.deleted': 'download-delete',
};

export interface SseMessage {
  type: string;
  data: string;
}

/** The contract's wire shape: `ids` stay numbers, a single task's `id` becomes a string. */
export function toSseMessage<K extends DownloadEventName>(name: K, payload: DownloadEventMap[K]): SseMessage {
  const data = 'id' in payload ? { ...payload, id: String(payload.id) } : payload;
  return { type: SSE_EVENT_NAMES[name], data: JSON.stringify(data) };
}
