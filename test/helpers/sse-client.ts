import { EventSource } from 'eventsource';

export interface ReceivedEvent {
  type: string;
  data: any;
  at: number;
}

const EVENT_TYPES = ['download-create', 'download-start', 'download-success', 'download-failed', 'download-stop', 'download-progress', 'download-update', 'download-delete'];

/** A real EventSource on the service's /api/events that records every event it receives. */
export class SseRecorder {
  readonly events: ReceivedEvent[] = [];
  private source: EventSource | null = null;

  async open(url: string, fetchHeaders: Record<string, string> = {}): Promise<void> {
    this.source = new EventSource(url, {
      fetch: (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), ...fetchHeaders } }),
    });
    for (const type of EVENT_TYPES) {
      this.source.addEventListener(type, (event) => this.events.push({ type, data: JSON.parse(event.data), at: Date.now() }));
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the event stream did not open within 10 s')), 10_000);
      this.source!.onopen = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  of(type: string, id?: number): ReceivedEvent[] {
    return this.events.filter((event) => event.type === type && (id === undefined || event.data.id === String(id)));
  }

  async waitFor(type: string, id?: number, timeoutMs = 60_000): Promise<ReceivedEvent> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.of(type, id)[0];
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`no ${type} event${id === undefined ? '' : ` for task ${id}`} within ${timeoutMs} ms; got: ${this.events.map((event) => event.type).join(', ')}`);
  }

  close(): void {
    this.source?.close();
  }
}
