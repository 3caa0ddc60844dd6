import { Module } from '@nestjs/common';
import { ClusterBus } from './cluster-bus.service.js';

/** How nodes sharing a PostgreSQL database hear each other (inert on SQLite). */
@Module({
  providers: [ClusterBus],
  exports: [ClusterBus],
})
export class ClusterModule {}
