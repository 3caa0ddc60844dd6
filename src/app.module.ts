import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AllExceptionsFilter } from './common/all-exceptions.filter.js';
import { ApiKeyGuard } from './common/api-key.guard.js';
import { EnvelopeInterceptor } from './common/envelope.interceptor.js';
import type { AppConfig } from './config/app-config.js';
import { ConfigModule } from './config/config.module.js';
import { TasksModule } from './tasks/tasks.module.js';
import { dataSourceOptions, openDataSource } from './database/data-source-options.js';
import { DownloadsModule } from './downloads/downloads.module.js';
import { EngineModule } from './engine/engine.module.js';
import { EventsModule } from './events/events.module.js';
import { HealthModule } from './health/health.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { SettingsModule } from './settings/settings.module.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';

@Module({})
export class AppModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        TypeOrmModule.forRootAsync({
          useFactory: () => dataSourceOptions(config.dataDir, config.databaseUrl),
          dataSourceFactory: (options) => openDataSource(options!),
        }),
        EventEmitterModule.forRoot({ wildcard: false, maxListeners: 50 }),
        TasksModule,
        EngineModule,
        EventsModule,
        DownloadsModule,
        HealthModule,
        MetricsModule,
        WebhooksModule,
        SettingsModule,
      ],
      providers: [
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_INTERCEPTOR, useClass: EnvelopeInterceptor },
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
      ],
    };
  }
}
