import { apiKey } from './api-key';
import type { components } from './schema';

export type ConnectionState = 'connecting' | 'live' | 'reconnecting';

/** The `download-progress` payload, as the OpenAPI document describes it. */
export type ProgressEvent = components['schemas']['DownloadProgressPayload'];

export interface LiveEventHandlers {
  /** a task's live figures (at most twice a second per task) */
  progress(event: ProgressEvent): void;
  /** anything else changed (create, start, success, failed, stop, update, delete): refetch what is shown */
  changed(event: string, data: Record<string, unknown>): void;
  /** the stream is up (again): what happened before it was is unknown, so refetch everything */
  resync(): void;
  state(state: ConnectionState): void;
}

const CHANGE_EVENTS = ['download-create', 'download-start', 'download-success', 'download-failed', 'download-stop', 'download-update', 'download-delete'];

/** The /api/events stream: EventSource reconnects by itself; each connect asks for a resync. */
export function connectLiveEvents(handlers: LiveEventHandlers): () => void {
  const key = apiKey.get();
  const source = new EventSource(`/api/events${key ? `?token=${encodeURIComponent(key)}` : ''}`);
  handlers.state('connecting');
  // every (re)connect resyncs: changes between the page's first fetch and the stream's start are caught too
  source.onopen = () => {
    handlers.state('live');
    handlers.resync();
  };
  source.onerror = () => handlers.state('reconnecting');
  source.addEventListener('download-progress', (message) => handlers.progress(JSON.parse((message as MessageEvent).data)));
  for (const name of CHANGE_EVENTS) {
    source.addEventListener(name, (message) => handlers.changed(name, JSON.parse((message as MessageEvent).data)));
  }
  return () => source.close();
}
