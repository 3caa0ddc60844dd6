import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DownloadEntity } from './download.entity.js';
import { DownloadRepository } from './download.repository.js';

/** The task store: the entity and its repository seam, shared by the lifecycle, the scheduler and the read side of the API. */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([DownloadEntity])],
  providers: [DownloadRepository],
  exports: [DownloadRepository],
})
export class TasksModule {}
