import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type pg from 'pg';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DownloadEvent, type DownloadEventMap, type DownloadEventName, REMOTE_DOWNLOAD_EVENT, type RemoteDownloadEvent } from '../events/download-events.js';

/** What one node asks of the node running a task: end its run (a client's stop, or a delete). */
export interface AbortRequest {
  id: number;
  reason: 'client' | 'delete';
}

const EVENTS_CHANNEL = 'mediago_events';
const COMMANDS_CHANNEL = 'mediago_commands';
const WAKE_CHANNEL = 'mediago_wake';
/** NOTIFY carries at most 8000 bytes; larger events travel by reference through cluster_messages. */
const INLINE_LIMIT = 7_000;
/** Progress crosses nodes at most this often per task; the latest figures win. */
const REMOTE_PROGRESS_MS = 1_000;
const RECONNECT_MS = 1_000;
const PRUNE_MS = 60_000;

interface EventMessage {
  from: string;
  name: DownloadEventName;
  payload: unknown;
}

/**
 * The nodes sharing a PostgreSQL database hear each other over LISTEN/NOTIFY: every lifecycle and progress
 * event (so that an SSE client on any node sees every task), wake-ups when tasks are queued, and requests to
 * the node that runs a task. On SQLite there is one node, and this does nothing.
 */
@Injectable()
export class ClusterBus implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ClusterBus.name);
  private client: pg.Client | null = null;
  private closing = false;
  private sending: Promise<unknown> = Promise.resolve();
  private readonly pendingProgress = new Map<number, DownloadEventMap['download.progress']>();
  private progressTimer: NodeJS.Timeout | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;
  private abortHandler: ((request: AbortRequest) => Promise<void>) | null = null;
  private readonly wakeHandlers: Array<() => void> = [];
  private connected = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly emitter: EventEmitter2,
  ) {}

  /** True when several nodes may share the store (PostgreSQL). */
  get enabled(): boolean {
    return this.config.databaseUrl !== null;
  }

  /** Whether this node hears the others now. */
  get listening(): boolean {
    return this.connected;
  }

  async onModuleInit(): Promise<void> {
    if (!this.enabled) return;
    for (const name of Object.values(DownloadEvent)) this.emitter.on(name, (payload: unknown) => this.forward(name, payload));
    await this.connect();
    this.progressTimer = setInterval(() => this.flushProgress(), REMOTE_PROGRESS_MS);
    this.progressTimer.unref();
    this.pruneTimer = setInterval(() => void this.prune(), PRUNE_MS);
    this.pruneTimer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    if (this.progressTimer) clearInterval(this.progressTimer);
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.flushProgress();
    await this.sending.catch(() => undefined);
    await this.client?.end().catch(() => undefined);
  }

  /** The lifecycle answers other nodes' requests to end a run this node holds. */
  onAbortRequest(handler: (request: AbortRequest) => Promise<void>): void {
    this.abortHandler = handler;
  }

  /** The scheduler looks for work when another node queued some. */
  onWake(handler: () => void): void {
    this.wakeHandlers.push(handler);
  }

  /** Tells every node that tasks were queued. */
  wakeOthers(): void {
    if (this.enabled) this.send(WAKE_CHANNEL, { from: this.config.nodeId });
  }

  /** Asks the node that runs a task to end its run. */
  requestAbort(node: string, request: AbortRequest): void {
    if (this.enabled) this.send(COMMANDS_CHANNEL, { from: this.config.nodeId, to: node, ...request });
  }

  private async connect(): Promise<void> {
    // loaded only when nodes share a PostgreSQL database
    const { default: postgres } = await import('pg');
    const client = new postgres.Client({ connectionString: this.config.databaseUrl!, connectionTimeoutMillis: 5_000 });
    client.on('notification', (message) => void this.receive(message.channel, message.payload ?? ''));
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, null));
    try {
      await client.connect();
      await client.query(`LISTEN ${EVENTS_CHANNEL}; LISTEN ${COMMANDS_CHANNEL}; LISTEN ${WAKE_CHANNEL}`);
      this.client = client;
      this.connected = true;
      // work queued while this node did not hear the others
      for (const handler of this.wakeHandlers) handler();
    } catch (error) {
      this.lost(client, error);
    }
  }

  private lost(client: pg.Client, error: unknown): void {
    if (this.client && this.client !== client) return;
    this.connected = false;
    this.client = null;
    void client.end().catch(() => undefined);
    if (this.closing) return;
    if (error) this.logger.warn(`lost the connection that hears the other nodes (${error instanceof Error ? error.message : String(error)}); trying again`);
    setTimeout(() => void this.connect(), RECONNECT_MS).unref();
  }

  private forward(name: DownloadEventName, payload: unknown): void {
    if (name === DownloadEvent.Progress) {
      const progress = payload as DownloadEventMap['download.progress'];
      this.pendingProgress.set(progress.id, progress);
      return;
    }
    // a task's last figures go out before its end, so that other nodes see events in order per task
    const id = (payload as { id?: number }).id;
    if (id !== undefined) {
      const progress = this.pendingProgress.get(id);
      if (progress) {
        this.pendingProgress.delete(id);
        this.sendEvent(DownloadEvent.Progress, progress);
      }
    }
    this.sendEvent(name, payload);
  }

  private flushProgress(): void {
    for (const progress of this.pendingProgress.values()) this.sendEvent(DownloadEvent.Progress, progress);
    this.pendingProgress.clear();
  }

  private sendEvent(name: DownloadEventName, payload: unknown): void {
    this.send(EVENTS_CHANNEL, { from: this.config.nodeId, name, payload } satisfies EventMessage);
  }

  /** NOTIFYs go out one at a time on one connection: other nodes receive them in this order. */
  private send(channel: string, message: object): void {
    const text = JSON.stringify(message);
    this.sending = this.sending.then(async () => {
      const client = this.client;
      if (!client) return;
      try {
        if (Buffer.byteLength(text) <= INLINE_LIMIT) {
          await client.query('SELECT pg_notify($1, $2)', [channel, text]);
        } else {
          const { rows } = await client.query<{ id: string }>('INSERT INTO "cluster_messages" ("body") VALUES ($1) RETURNING "id"', [text]);
          await client.query('SELECT pg_notify($1, $2)', [channel, JSON.stringify({ ref: rows[0].id })]);
        }
      } catch (error) {
        this.logger.warn(`a message to the other nodes was not sent: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
  }

  private async receive(channel: string, text: string): Promise<void> {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(text) as Record<string, unknown>;
      if (typeof message.ref === 'string' || typeof message.ref === 'number') {
        const { rows } = await this.client!.query<{ body: string }>('SELECT "body" FROM "cluster_messages" WHERE "id" = $1', [message.ref]);
        if (!rows[0]) return;
        message = JSON.parse(rows[0].body) as Record<string, unknown>;
      }
    } catch (error) {
      this.logger.warn(`a message from another node could not be read: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    if (message.from === this.config.nodeId) return;
    if (channel === EVENTS_CHANNEL) {
      this.emitter.emit(REMOTE_DOWNLOAD_EVENT, { name: message.name, payload: message.payload } as RemoteDownloadEvent);
    } else if (channel === WAKE_CHANNEL) {
      for (const handler of this.wakeHandlers) handler();
    } else if (channel === COMMANDS_CHANNEL && message.to === this.config.nodeId && this.abortHandler) {
      await this.abortHandler({ id: Number(message.id), reason: message.reason === 'delete' ? 'delete' : 'client' }).catch((error: unknown) =>
        this.logger.warn(`a request from node ${String(message.from)} to end the run of task ${String(message.id)} failed: ${error instanceof Error ? error.message : String(error)}`),
      );
    }
  }

  private async prune(): Promise<void> {
    await this.client?.query(`DELETE FROM "cluster_messages" WHERE "createdAt" < now() - interval '5 minutes'`).catch(() => undefined);
  }
}
