import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DownloadEntity } from './download.entity.js';
import { DownloadRepository } from '../downloads/download.repository.js';

/** The ORM entity's repository seam, shared by the downloads API and the scheduler. */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([DownloadEntity])],
  providers: [DownloadRepository],
  exports: [DownloadRepository],
})
export class DatabaseModule {}
