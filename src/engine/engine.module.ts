import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { SETTINGS_CHANGED, type SettingsChangedPayload } from '../config/config-events.js';
import { AddressGuard } from './address-guard.js';
import { HttpClient } from './http-client.js';
import { ToolsService } from './tools.service.js';

/** The shared HTTP client, built from the configuration and closed at shutdown. */
@Injectable()
export class SharedHttpClient extends HttpClient implements OnApplicationShutdown {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    super({
      proxy: config.proxy,
      noProxy: config.noProxy,
      stallTimeoutMs: config.stallTimeoutMs,
      addressGuard: config.allowPrivateAddresses ? null : new AddressGuard(),
      headTimeoutMs: config.headTimeoutMs,
      documentTimeoutMs: config.documentTimeoutMs,
      retry: { attempts: config.retryAttempts, baseDelayMs: config.retryBaseDelayMs },
    });
  }

  /** RETRY_ATTEMPTS and the proxy changed through the settings API apply to the next request of every task. */
  @OnEvent(SETTINGS_CHANGED)
  onSettingsChanged({ keys }: SettingsChangedPayload): void {
    if (keys.includes('retryAttempts')) this.retryPolicy.attempts = this.config.retryAttempts;
    if (keys.includes('proxy')) this.useProxy(this.config.proxy);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }
}

@Global()
@Module({
  providers: [SharedHttpClient, { provide: HttpClient, useExisting: SharedHttpClient }, ToolsService],
  exports: [HttpClient, ToolsService],
})
export class EngineModule {}
