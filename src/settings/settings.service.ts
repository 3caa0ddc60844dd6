import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { mkdir } from 'node:fs/promises';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DownloadRepository } from '../tasks/download.repository.js';
import { redactUrl } from '../engine/http-error.js';
import { SETTINGS_CHANGED, type SettingsChangedPayload } from '../config/config-events.js';
import { parseLanguages, parseQuality, qualityText } from '../config/media-choice.js';
import type { SettingSource, SettingsViewDto } from './settings-view.dto.js';
import { SettingsRepository } from './settings.repository.js';
import type { UpdateSettingsDto } from './update-settings.dto.js';

/** The settings a client may change at run time; each is a field of the one live AppConfig. */
export const LIVE_SETTINGS = [
  'maxConcurrentDownloads',
  'downloadDir',
  'retryAttempts',
  'speedLimit',
  'proxy',
  'webhookUrls',
  'webhookSecret',
  'webhookEvents',
  'defaultQuality',
  'defaultAudioLanguage',
  'defaultSubtitleLanguages',
] as const;
type LiveSetting = (typeof LIVE_SETTINGS)[number];
type LiveValues = Pick<AppConfig, LiveSetting>;

/**
 * Saved settings beat the environment, which beats the defaults. Saved values are written into the one AppConfig
 * object every service holds, so whoever reads a field at use time sees the new value; services that build
 * something from a setting listen for SETTINGS_CHANGED.
 */
@Injectable()
export class SettingsService implements OnModuleInit {
  private readonly logger = new Logger('Settings');
  /** what the environment (or the defaults) gave, for `null` resets */
  private readonly environment: LiveValues;
  private saved: Partial<LiveValues> = {};

  constructor(
    private readonly settings: SettingsRepository,
    private readonly downloads: DownloadRepository,
    private readonly events: EventEmitter2,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.environment = pick(config);
  }

  async onModuleInit(): Promise<void> {
    const stored = await this.settings.all();
    this.saved = Object.fromEntries(Object.entries(stored).filter(([key]) => (LIVE_SETTINGS as readonly string[]).includes(key))) as Partial<LiveValues>;
    Object.assign(this.config, this.saved);
    if (Object.keys(this.saved).length > 0) this.logger.log(`saved settings in force: ${Object.keys(this.saved).join(', ')}`);
  }

  view(): SettingsViewDto {
    const source = (key: LiveSetting): SettingSource => (key in this.saved ? 'saved' : 'environment');
    const { config } = this;
    return {
      maxConcurrentDownloads: { value: config.maxConcurrentDownloads, source: source('maxConcurrentDownloads') },
      downloadDir: { value: config.downloadDir, source: source('downloadDir') },
      retryAttempts: { value: config.retryAttempts, source: source('retryAttempts') },
      speedLimit: { value: config.speedLimit, source: source('speedLimit') },
      proxy: { value: config.proxy ? withoutCredentials(config.proxy) : null, credentialsSet: config.proxy ? hasCredentials(config.proxy) : false, source: source('proxy') },
      webhookUrls: { value: config.webhookUrls.map(redactUrl), source: source('webhookUrls') },
      webhookSecret: { set: config.webhookSecret !== null, source: source('webhookSecret') },
      webhookEvents: { value: config.webhookEvents, source: source('webhookEvents') },
      defaultQuality: { value: qualityText(config.defaultQuality), source: source('defaultQuality') },
      defaultAudioLanguage: { value: config.defaultAudioLanguage, source: source('defaultAudioLanguage') },
      defaultSubtitleLanguages: { value: config.defaultSubtitleLanguages, source: source('defaultSubtitleLanguages') },
    };
  }

  async update(dto: UpdateSettingsDto): Promise<SettingsViewDto> {
    const changes = Object.fromEntries(
      Object.entries(dto)
        .filter(([key, value]) => (LIVE_SETTINGS as readonly string[]).includes(key) && value !== undefined)
        .map(([key, value]) => [key, normalized(key, value)]),
    ) as {
      [K in LiveSetting]?: LiveValues[K] | null;
    };
    const next: Partial<LiveValues> = {};
    for (const key of Object.keys(changes) as LiveSetting[]) {
      const value = changes[key];
      // "" is a saved "no proxy", which beats a proxy from the environment
      (next as Record<string, unknown>)[key] = value === null ? this.environment[key] : key === 'proxy' && value === '' ? null : value;
    }
    if (next.downloadDir !== undefined && next.downloadDir !== this.config.downloadDir) {
      await mkdir(next.downloadDir, { recursive: true });
      // tasks created before the change keep saving (and resuming) where they began
      await this.downloads.pinDefaultDirectory(this.config.downloadDir);
    }
    await this.settings.apply(changes);
    for (const key of Object.keys(changes) as LiveSetting[]) {
      if (changes[key] === null) delete this.saved[key];
      else (this.saved as Record<string, unknown>)[key] = changes[key];
    }
    Object.assign(this.config, next);
    const keys = Object.keys(changes);
    if (keys.length > 0) {
      this.logger.log(`settings changed: ${keys.join(', ')}`);
      this.events.emit(SETTINGS_CHANGED, { keys } satisfies SettingsChangedPayload);
    }
    return this.view();
  }
}

/** The media choice settings are saved in the form a run reads ("720p" → 720, "eng" → "en"); the DTO validated them. */
function normalized(key: string, value: unknown): unknown {
  if (value === null) return null;
  if (key === 'defaultQuality') return parseQuality(value);
  if (key === 'defaultAudioLanguage' || key === 'defaultSubtitleLanguages') return parseLanguages(value);
  return value;
}

/** A proxy URL as it may be shown: its user name and password are write-only. */
function withoutCredentials(proxy: string): string {
  const url = new URL(proxy);
  return `${url.protocol}//${url.host}`;
}

function hasCredentials(proxy: string): boolean {
  const url = new URL(proxy);
  return url.username !== '' || url.password !== '';
}

function pick(config: AppConfig): LiveValues {
  return Object.fromEntries(LIVE_SETTINGS.map((key) => [key, structuredClone(config[key])])) as LiveValues;
}
