import { Body, Controller, Delete, Get, Header, Headers, HttpCode, Param, Post, Put, Query, Res } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiProduces, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { preferredMediaType } from '../common/accept.js';
import { ApiEnvelope, ApiErrors } from '../common/api-envelope.decorator.js';
import { type Envelope, okEnvelope } from '../common/envelope.js';
import { ParseIdPipe } from '../common/parse-id.pipe.js';
import { RawResponse } from '../common/raw-response.decorator.js';
import { DownloadsService } from './downloads.service.js';
import { CreateDownloadsDto } from './dto/create-downloads.dto.js';
import { DownloadLogDto, DownloadPageDto, DownloadTaskDto } from './dto/download-task.dto.js';
import { DeleteDownloadQueryDto, ListDownloadsQueryDto } from './dto/list-downloads-query.dto.js';
import { SetStatusDto } from './dto/set-status.dto.js';
import { StartDownloadDto } from './dto/start-download.dto.js';
import { SetLiveDto, UpdateDownloadDto } from './dto/update-download.dto.js';

@ApiTags('downloads')
@ApiErrors(400, 401, 500)
@Controller('downloads')
export class DownloadsController {
  constructor(private readonly downloads: DownloadsService) {}

  @Get()
  @ApiOperation({ summary: 'List tasks, newest first, a page at a time' })
  @ApiEnvelope(DownloadPageDto)
  list(@Query() query: ListDownloadsQueryDto): Promise<DownloadPageDto> {
    return this.downloads.page(query);
  }

  @Get('active')
  @ApiOperation({ summary: 'Tasks that are waiting or downloading' })
  @ApiEnvelope(DownloadTaskDto, { isArray: true })
  active(): Promise<DownloadTaskDto[]> {
    return this.downloads.active();
  }

  @Get('folders')
  @ApiOperation({ summary: 'The distinct non-empty folder values' })
  @ApiEnvelope('strings')
  folders(): Promise<string[]> {
    return this.downloads.folders();
  }

  @Get('export')
  @RawResponse()
  @Header('vary', 'Accept')
  @ApiOperation({ summary: 'Every task URL, one per line, newest first: plain text, or the envelope with the text as data when Accept ranks application/json above text/plain' })
  @ApiProduces('text/plain', 'application/json')
  @ApiResponse({ status: 200, description: 'One URL per line', schema: { type: 'string' } })
  async exportUrls(@Headers('accept') accept: string | undefined, @Res({ passthrough: true }) reply: FastifyReply): Promise<string | Envelope<string>> {
    const text = await this.downloads.exportText();
    if (preferredMediaType(accept, ['text/plain', 'application/json']) === 'application/json') {
      reply.header('content-type', 'application/json; charset=utf-8');
      return okEnvelope(text);
    }
    reply.header('content-type', 'text/plain; charset=utf-8');
    return text;
  }

  @Post()
  @HttpCode(200)
  @ApiOperation({ summary: 'Create 1 to 1000 tasks (and queue them when startDownload is true)' })
  @ApiBody({ type: CreateDownloadsDto })
  @ApiEnvelope(DownloadTaskDto, { isArray: true })
  @ApiErrors(413)
  create(@Body() body: CreateDownloadsDto): Promise<DownloadTaskDto[]> {
    return this.downloads.create(body);
  }

  @Put('status')
  @ApiOperation({ summary: 'Set the status of several tasks: waiting queues, stopped stops, success/failed mark idle tasks' })
  @ApiEnvelope(DownloadTaskDto, { isArray: true })
  @ApiErrors(404, 409)
  setStatus(@Body() body: SetStatusDto): Promise<DownloadTaskDto[]> {
    return this.downloads.setStatus(body);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One task' })
  @ApiEnvelope(DownloadTaskDto)
  @ApiErrors(404)
  get(@Param('id', ParseIdPipe) id: number): Promise<DownloadTaskDto> {
    return this.downloads.get(id);
  }

  @Get(':id/logs')
  @ApiOperation({ summary: "What the task's runs did, oldest first (the last 256 KiB)" })
  @ApiEnvelope(DownloadLogDto)
  @ApiErrors(404)
  logs(@Param('id', ParseIdPipe) id: number): Promise<DownloadLogDto> {
    return this.downloads.logs(id);
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Delete a task (stopping it first); ?deleteFile=true also removes its file and partial data' })
  @ApiQuery({ name: 'deleteFile', required: false, type: Boolean })
  @ApiEnvelope('empty')
  @ApiErrors(404)
  remove(@Param('id', ParseIdPipe) id: number, @Query() query: DeleteDownloadQueryDto): Promise<Record<string, never>> {
    return this.downloads.remove(id, query.deleteFile ?? false);
  }

  @Put(':id')
  @ApiOperation({ summary: 'Edit name, url, headers or folder (409 while downloading)' })
  @ApiEnvelope(DownloadTaskDto)
  @ApiErrors(404, 409)
  update(@Param('id', ParseIdPipe) id: number, @Body() body: UpdateDownloadDto): Promise<DownloadTaskDto> {
    return this.downloads.update(id, body);
  }

  @Put(':id/live')
  @ApiOperation({ summary: 'Mark a task as a live stream to record, or not' })
  @ApiEnvelope(DownloadTaskDto)
  @ApiErrors(404)
  setLive(@Param('id', ParseIdPipe) id: number, @Body() body: SetLiveDto): Promise<DownloadTaskDto> {
    return this.downloads.setLive(id, body.isLive);
  }

  @Post(':id/start')
  @HttpCode(200)
  @ApiOperation({ summary: 'Queue a task (a no-op if it is already queued or running); stopped/failed tasks resume' })
  @ApiBody({ type: StartDownloadDto, required: false })
  @ApiEnvelope(DownloadTaskDto)
  @ApiErrors(404)
  start(@Param('id', ParseIdPipe) id: number, @Body() body: StartDownloadDto): Promise<DownloadTaskDto> {
    return this.downloads.start(id, body);
  }

  @Post(':id/stop')
  @HttpCode(200)
  @ApiOperation({ summary: 'Stop a queued or running task; partial data stays for a resume' })
  @ApiEnvelope('empty')
  @ApiErrors(404)
  stop(@Param('id', ParseIdPipe) id: number): Promise<Record<string, never>> {
    return this.downloads.stop(id);
  }
}
