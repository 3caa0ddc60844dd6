import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { OnEvent } from '@nestjs/event-emitter';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Registry } from 'prom-client';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DownloadRepository } from '../tasks/download.repository.js';
import { onRetry } from '../engine/retry.js';
import { DownloadStatus } from '../tasks/download-status.enum.js';
import { DownloadEvent, type DownloadEventMap } from '../events/download-events.js';
import { EventStreamService } from '../events/event-stream.service.js';
import { collectProcessMetrics } from './process-metrics.js';
import { type TaskMetrics, createTaskMetrics } from './task-metrics.js';

/** What the metrics remember of a running task: its type, when it started, and the bytes already counted. */
interface RunningTask {
  type: string;
  startedAt: number;
  countedBytes: number;
  speed: number;
}

/** Prometheus metrics of this process, fed by the lifecycle events and a Fastify response hook. */
@Injectable()
export class MetricsService implements OnModuleInit, OnModuleDestroy {
  readonly registry = new Registry();
  private readonly metrics: TaskMetrics;
  private readonly running = new Map<number, RunningTask>();
  private readonly stopCountingRetries: () => void;

  constructor(
    private readonly repository: DownloadRepository,
    private readonly adapterHost: HttpAdapterHost,
    eventStream: EventStreamService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    collectProcessMetrics(this.registry, { gcDurations: config.metricsGc });
    this.metrics = createTaskMetrics(this.registry, {
      tasksByStatus: () => this.countsByStatus(),
      speed: () => this.totalSpeed(),
      running: () => this.runningCount(),
      sseClients: () => eventStream.clientCount(),
    });
    this.stopCountingRetries = onRetry((reason, source) => this.metrics.retries.inc({ reason, source }));
  }

  /** Every status with its count, zeros included. */
  async countsByStatus(): Promise<Record<DownloadStatus, number>> {
    const counts = await this.repository.countByStatus();
    return Object.fromEntries(Object.values(DownloadStatus).map((status) => [status, counts[status] ?? 0])) as Record<DownloadStatus, number>;
  }

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      // the route pattern, not the URL: ids and query strings would make every request its own series
      const route = request.routeOptions.url ?? 'unmatched';
      this.metrics.httpDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
      done();
    });
  }

  onModuleDestroy(): void {
    this.stopCountingRetries();
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  @OnEvent(DownloadEvent.Started, { async: true, promisify: true, suppressErrors: true })
  async onStarted({ id }: DownloadEventMap['download.started']): Promise<void> {
    const task = await this.repository.findById(id);
    if (!task) return;
    this.running.set(id, { type: task.type, startedAt: Date.now(), countedBytes: task.downloadedBytes, speed: 0 });
    this.metrics.started.inc({ type: task.type });
    if (task.queuedAt) this.metrics.queueWait.observe({ type: task.type }, Math.max(0, Date.now() - Date.parse(task.queuedAt)) / 1000);
  }

  @OnEvent(DownloadEvent.Progress)
  onProgress(progress: DownloadEventMap['download.progress']): void {
    const task = this.running.get(progress.id);
    if (!task) return;
    const fresh = progress.downloadedBytes - task.countedBytes;
    if (fresh > 0) this.metrics.bytes.inc({ type: task.type }, fresh);
    task.countedBytes = Math.max(task.countedBytes, progress.downloadedBytes);
    task.speed = progress.speed;
  }

  @OnEvent(DownloadEvent.Succeeded)
  onSucceeded({ id }: DownloadEventMap['download.succeeded']): void {
    const task = this.end(id, 'success');
    if (task) this.metrics.succeeded.inc({ type: task.type });
  }

  @OnEvent(DownloadEvent.Failed)
  onFailed({ id, errorCode }: DownloadEventMap['download.failed']): void {
    const task = this.end(id, 'failed');
    if (task) this.metrics.failed.inc({ type: task.type, error_code: errorCode });
  }

  @OnEvent(DownloadEvent.Stopped)
  onStopped({ id }: DownloadEventMap['download.stopped']): void {
    const task = this.end(id, 'stopped');
    if (task) this.metrics.stopped.inc({ type: task.type });
  }

  private end(id: number, outcome: string): RunningTask | undefined {
    const task = this.running.get(id);
    if (!task) return undefined;
    this.running.delete(id);
    this.metrics.runDuration.observe({ type: task.type, outcome }, (Date.now() - task.startedAt) / 1000);
    return task;
  }

  runningCount(): number {
    return this.running.size;
  }

  /** Total speed of the running tasks, for the stats route. */
  totalSpeed(): number {
    return [...this.running.values()].reduce((sum, task) => sum + task.speed, 0);
  }
}
