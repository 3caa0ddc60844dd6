import { Body, Controller, Delete, Get, Header, Headers, HttpCode, Param, Post, Put, Query, Res } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { preferredMediaType } from '../common/accept.js';
import { ANY_API_ROUTE, ApiEnvelope, ApiErrors, BODY_ROUTE, BODYLESS_COMMAND, ID_ROUTE, QUERY_ROUTE, successEnvelopeSchema } from '../common/api-envelope.decorator.js';
import { type Envelope, okEnvelope } from '../common/envelope.js';
import { ErrorCode } from '../common/error-codes.js';
import { ParseIdPipe } from '../common/parse-id.pipe.js';
import { RawResponse } from '../common/raw-response.decorator.js';
import { DownloadsService } from './downloads.service.js';
import { CreateDownloadsDto } from './dto/create-downloads.dto.js';
import { ResolveLinkDto, ResolvedLinkDto } from './dto/resolve-link.dto.js';
import { DownloadLogDto, DownloadPageDto, DownloadTaskDto } from './dto/download-task.dto.js';
import { DeleteDownloadQueryDto, ListDownloadsQueryDto } from './dto/list-downloads-query.dto.js';
import { SetStatusDto } from './dto/set-status.dto.js';
import { StartDownloadDto } from './dto/start-download.dto.js';
import { SetLiveDto, UpdateDownloadDto } from './dto/update-download.dto.js';

@ApiTags('downloads')
@Controller('downloads')
export class DownloadsController {
  constructor(private readonly downloads: DownloadsService) {}

  @Get()
  @ApiOperation({ operationId: 'listDownloads', summary: 'List tasks, newest first, a page at a time' })
  @ApiEnvelope(DownloadPageDto)
  @ApiErrors(ANY_API_ROUTE, QUERY_ROUTE)
  list(@Query() query: ListDownloadsQueryDto): Promise<DownloadPageDto> {
    return this.downloads.page(query);
  }

  @Get('active')
  @ApiOperation({ operationId: 'listActiveDownloads', summary: 'Tasks that are waiting or downloading' })
  @ApiEnvelope(DownloadTaskDto, { isArray: true })
  @ApiErrors(ANY_API_ROUTE)
  active(): Promise<DownloadTaskDto[]> {
    return this.downloads.active();
  }

  @Get('folders')
  @ApiOperation({ operationId: 'listFolders', summary: 'The distinct non-empty folder values' })
  @ApiEnvelope('strings')
  @ApiErrors(ANY_API_ROUTE)
  folders(): Promise<string[]> {
    return this.downloads.folders();
  }

  @Get('export')
  @RawResponse()
  @Header('vary', 'Accept')
  @ApiOperation({
    operationId: 'exportUrls',
    summary: 'Every task URL, one per line, newest first',
    description:
      'Plain text (not wrapped) unless the request\'s Accept ranks application/json above text/plain ' +
      '(axios and MediaGo\'s SDK send "application/json, text/plain, */*"): then the envelope, with the same text as data.',
  })
  @ApiResponse({
    status: 200,
    description: 'One URL per line',
    content: {
      'text/plain': { schema: { type: 'string', example: 'https://example.com/a.m3u8\nhttps://example.com/b.mp4\n' } },
      'application/json': { schema: successEnvelopeSchema({ type: 'string', example: 'https://example.com/a.m3u8\nhttps://example.com/b.mp4\n' }) },
    },
  })
  @ApiErrors(ANY_API_ROUTE)
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
  @ApiOperation({
    operationId: 'createDownloads',
    summary: 'Create 1 to 1000 tasks (and queue them when startDownload is true)',
    description: 'An item with `expand: true` becomes one task per entry its link holds (see resolve), in order; one `download-create` carries every id.',
  })
  @ApiBody({ type: CreateDownloadsDto })
  @ApiEnvelope(DownloadTaskDto, { isArray: true })
  @ApiErrors(ANY_API_ROUTE, BODY_ROUTE, { 400: [ErrorCode.ResolveFailed, ErrorCode.AddressNotAllowed] })
  create(@Body() body: CreateDownloadsDto): Promise<DownloadTaskDto[]> {
    return this.downloads.create(body);
  }

  @Post('resolve')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'resolveLink',
    summary: 'What a link holds (its parts, episodes or playlist entries), without creating anything',
    description:
      'A Bilibili multi-part video without ?p= lists its parts, a season (ss…, md…) its episodes, a yt-dlp playlist or channel its entries; ' +
      'anything else is one entry. At most `limit` (1000) entries, with `truncated` set when the link holds more. Bounded by RESOLVE_TIMEOUT_MS.',
  })
  @ApiBody({ type: ResolveLinkDto })
  @ApiEnvelope(ResolvedLinkDto)
  @ApiErrors(ANY_API_ROUTE, BODY_ROUTE, { 400: [ErrorCode.ResolveFailed, ErrorCode.AddressNotAllowed] })
  resolve(@Body() body: ResolveLinkDto): Promise<ResolvedLinkDto> {
    return this.downloads.resolve(body);
  }

  @Put('status')
  @ApiOperation({ operationId: 'setDownloadsStatus', summary: 'Set the status of several tasks: waiting queues, stopped stops, success/failed mark idle tasks' })
  @ApiEnvelope(DownloadTaskDto, { isArray: true })
  @ApiErrors(ANY_API_ROUTE, BODY_ROUTE, { 404: [ErrorCode.DownloadNotFound], 409: [ErrorCode.TaskRunning, ErrorCode.InvalidTransition] })
  setStatus(@Body() body: SetStatusDto): Promise<DownloadTaskDto[]> {
    return this.downloads.setStatus(body);
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getDownload', summary: 'One task' })
  @ApiEnvelope(DownloadTaskDto)
  @ApiErrors(ANY_API_ROUTE, ID_ROUTE)
  @ApiParam({ name: 'id', schema: { type: 'integer', minimum: 1 }, description: 'The task id, a positive integer' })
  get(@Param('id', ParseIdPipe) id: number): Promise<DownloadTaskDto> {
    return this.downloads.get(id);
  }

  @Get(':id/logs')
  @ApiOperation({ operationId: 'getDownloadLogs', summary: "What the task's runs did, oldest first (the last 256 KiB)" })
  @ApiEnvelope(DownloadLogDto)
  @ApiErrors(ANY_API_ROUTE, ID_ROUTE)
  @ApiParam({ name: 'id', schema: { type: 'integer', minimum: 1 }, description: 'The task id, a positive integer' })
  logs(@Param('id', ParseIdPipe) id: number): Promise<DownloadLogDto> {
    return this.downloads.logs(id);
  }

  @Delete(':id')
  @ApiOperation({ operationId: 'deleteDownload', summary: 'Delete a task (stopping it first); ?deleteFile=true also removes its file and partial data' })
  @ApiQuery({ name: 'deleteFile', required: false, type: Boolean })
  @ApiEnvelope('empty')
  @ApiErrors(ANY_API_ROUTE, ID_ROUTE, QUERY_ROUTE, BODYLESS_COMMAND)
  @ApiParam({ name: 'id', schema: { type: 'integer', minimum: 1 }, description: 'The task id, a positive integer' })
  remove(@Param('id', ParseIdPipe) id: number, @Query() query: DeleteDownloadQueryDto): Promise<Record<string, never>> {
    return this.downloads.remove(id, query.deleteFile ?? false);
  }

  @Put(':id')
  @ApiOperation({ operationId: 'updateDownload', summary: 'Edit name, url, headers or folder (409 while downloading)' })
  @ApiEnvelope(DownloadTaskDto)
  @ApiErrors(ANY_API_ROUTE, ID_ROUTE, BODY_ROUTE, { 400: [ErrorCode.ResolveFailed, ErrorCode.AddressNotAllowed], 409: [ErrorCode.TaskRunning] })
  @ApiParam({ name: 'id', schema: { type: 'integer', minimum: 1 }, description: 'The task id, a positive integer' })
  update(@Param('id', ParseIdPipe) id: number, @Body() body: UpdateDownloadDto): Promise<DownloadTaskDto> {
    return this.downloads.update(id, body);
  }

  @Put(':id/live')
  @ApiOperation({ operationId: 'setDownloadLive', summary: 'Mark a task as a live stream to record, or not' })
  @ApiEnvelope(DownloadTaskDto)
  @ApiErrors(ANY_API_ROUTE, ID_ROUTE, BODY_ROUTE)
  @ApiParam({ name: 'id', schema: { type: 'integer', minimum: 1 }, description: 'The task id, a positive integer' })
  setLive(@Param('id', ParseIdPipe) id: number, @Body() body: SetLiveDto): Promise<DownloadTaskDto> {
    return this.downloads.setLive(id, body.isLive);
  }

  @Post(':id/start')
  @HttpCode(200)
  @ApiOperation({ operationId: 'startDownload', summary: 'Queue a task (a no-op if it is already queued or running); stopped/failed tasks resume' })
  @ApiBody({ type: StartDownloadDto, required: false })
  @ApiEnvelope(DownloadTaskDto)
  @ApiErrors(ANY_API_ROUTE, ID_ROUTE, BODY_ROUTE, { 400: [ErrorCode.ResolveFailed, ErrorCode.AddressNotAllowed] })
  @ApiParam({ name: 'id', schema: { type: 'integer', minimum: 1 }, description: 'The task id, a positive integer' })
  start(@Param('id', ParseIdPipe) id: number, @Body() body: StartDownloadDto): Promise<DownloadTaskDto> {
    return this.downloads.start(id, body);
  }

  @Post(':id/stop')
  @HttpCode(200)
  @ApiOperation({ operationId: 'stopDownload', summary: 'Stop a queued or running task; partial data stays for a resume' })
  @ApiEnvelope('empty')
  @ApiErrors(ANY_API_ROUTE, ID_ROUTE, BODYLESS_COMMAND)
  @ApiParam({ name: 'id', schema: { type: 'integer', minimum: 1 }, description: 'The task id, a positive integer' })
  stop(@Param('id', ParseIdPipe) id: number): Promise<Record<string, never>> {
    return this.downloads.stop(id);
  }
}
