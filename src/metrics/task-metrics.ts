import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Seconds buckets for queue waits and runs: from a blink to a long live recording. */
const DURATION_BUCKETS = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 14_400];
/** Seconds buckets for API requests. */
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

/** Values read at scrape time, so that they are never stale. */
export interface ScrapedValues {
  tasksByStatus(): Promise<Record<string, number>>;
  speed(): number;
  running(): number;
  sseClients(): number;
}

/** The service's own metric families, registered once in the given registry. */
export function createTaskMetrics(registry: Registry, read: ScrapedValues) {
  const registers = [registry];
  return {
    tasksByStatus: new Gauge({
      name: 'mediago_tasks',
      help: 'Tasks by status',
      labelNames: ['status'],
      registers,
      async collect() {
        for (const [status, count] of Object.entries(await read.tasksByStatus())) this.set({ status }, count);
      },
    }),
    started: new Counter({ name: 'mediago_tasks_started_total', help: 'Task runs started, by type', labelNames: ['type'], registers }),
    succeeded: new Counter({ name: 'mediago_tasks_succeeded_total', help: 'Task runs that succeeded, by type', labelNames: ['type'], registers }),
    failed: new Counter({ name: 'mediago_tasks_failed_total', help: 'Task runs that failed, by type and errorCode', labelNames: ['type', 'error_code'], registers }),
    stopped: new Counter({ name: 'mediago_tasks_stopped_total', help: 'Task runs stopped by a client, by type', labelNames: ['type'], registers }),
    bytes: new Counter({ name: 'mediago_downloaded_bytes_total', help: 'Bytes downloaded, by type', labelNames: ['type'], registers }),
    speed: new Gauge({
      name: 'mediago_download_speed_bytes',
      help: 'Current download speed of all running tasks, bytes per second',
      registers,
      collect() {
        this.set(read.speed());
      },
    }),
    running: new Gauge({
      name: 'mediago_tasks_running',
      help: 'Tasks holding a download slot now',
      registers,
      collect() {
        this.set(read.running());
      },
    }),
    queueWait: new Histogram({ name: 'mediago_queue_wait_seconds', help: 'Time from queued to started', labelNames: ['type'], buckets: DURATION_BUCKETS, registers }),
    runDuration: new Histogram({ name: 'mediago_run_duration_seconds', help: 'Time a run held its slot, by type and outcome', labelNames: ['type', 'outcome'], buckets: DURATION_BUCKETS, registers }),
    sseClients: new Gauge({
      name: 'mediago_sse_clients',
      help: 'Open event-stream connections',
      registers,
      collect() {
        this.set(read.sseClients());
      },
    }),
    httpDuration: new Histogram({
      name: 'mediago_http_request_duration_seconds',
      help: 'API request duration, by method, route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: REQUEST_BUCKETS,
      registers,
    }),
  };
}

export type TaskMetrics = ReturnType<typeof createTaskMetrics>;
