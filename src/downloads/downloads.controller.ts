import { Body, Controller, Delete, Get, Header, Headers, HttpCode, Param, Post, Put, Query, Res } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { preferredMediaType } from '../common/accept.js';
import { ANY_API_ROUTE, ApiEnvelope, ApiErrors, BODY_ROUTE, BODYLESS_COMMAND, ID_ROUTE, QUERY_ROUTE, successEnvelopeSchema } from '../common/api-envelope.decorator.js';
import { type Envelope, okEnvelope } from '../common/envelope.js';
import { ErrorCode } from '../common/error-codes.js';
import { ParseIdPipe } from '../common/parse-id.pipe.js';
import { RawResponse } from '../common/raw-response.decorator.js';
import { DownloadsService } from './downloads.service.js';
import { type MediaAnswer, MediaStreamService, PLAYLIST_TYPE } from './media-stream.service.js';
import { CreateDownloadsDto } from './dto/create-downloads.dto.js';
import { ResolveLinkDto, ResolvedLinkDto } from './dto/resolve-link.dto.js';
import { DownloadLogDto, DownloadPageDto, DownloadTaskDto } from './dto/download-task.dto.js';
import { DeleteDownloadQueryDto, ListDownloadsQueryDto } from './dto/list-downloads-query.dto.js';
import { SetStatusDto } from './dto/set-status.dto.js';
import { StartDownloadDto } from './dto/start-download.dto.js';
import { SetLiveDto, UpdateDownloadDto } from './dto/update-download.dto.js';

const STREAM_DESCRIPTION =
  'A finished task: its file, with `Range` (one range; 206 with `Content-Range`, 416 past the end), `Accept-Ranges: bytes`, ' +
  '`Content-Length`, and a `Content-Type` from its extension. A running (or stopped) plain download (`direct`, or `mediago` on a ' +
  'plain file): the bytes complete from byte 0 at the last checkpoint (at most a couple of seconds old), served like a file of that ' +
  'size: `Content-Length` is the prefix, not the final size; ask again (with `Range: bytes=<where you stopped>-`) for more. ' +
  'A segmented download (m3u8, mediago on HLS/DASH) answers 409 `stream_not_ready` while it runs: play `stream.m3u8`. ' +
  'bilibili and youtube tasks cannot be played before they finish (409 `stream_not_ready`). With `API_KEY` set, a `<video>` ' +
  'element passes the key as `?token=<key>`.';

const PLAYLIST_DESCRIPTION =
  'For `m3u8` tasks and `mediago` tasks on HLS or DASH: the segments already on disk, in order and without a gap from the first, ' +
  'with their durations from the source playlist or manifest, as an `EVENT` playlist a player can start on at once and reloads ' +
  'for more. fMP4 segments come with their `EXT-X-MAP` init section; segments are served as downloaded (decrypted, never ' +
  'transcoded). When the source has a separate audio track (an HLS alternate rendition, DASH), this is a master playlist with ' +
  'one media playlist per track under `stream/tracks/`. `EXT-X-ENDLIST` is added once every segment is on disk (a live ' +
  'recording: once it has finished). A finished task whose segments were removed (the default, `deleteSegments: true`) answers ' +
  '409 `stream_not_ready`: play its file at `stream`. With `API_KEY` set, pass `?token=<key>`: the playlist repeats it in the ' +
  'URLs it lists.';

const MEDIA_HEADERS = {
  'Accept-Ranges': { schema: { type: 'string', enum: ['bytes'] } },
  'Content-Length': { schema: { type: 'integer' } },
};
const MEDIA_CONTENT = { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } }, 'video/*': { schema: { type: 'string', format: 'binary' } }, 'audio/*': { schema: { type: 'string', format: 'binary' } } };
const SEGMENT_CONTENT = { 'video/mp2t': { schema: { type: 'string', format: 'binary' } }, 'video/iso.segment': { schema: { type: 'string', format: 'binary' } }, 'video/mp4': { schema: { type: 'string', format: 'binary' } } };
const PLAYLIST_CONTENT = { [PLAYLIST_TYPE]: { schema: { type: 'string', example: '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:2,\nstream/segments/video-0.ts\n' } } };

/** Sends a stream route's raw answer; an error before the first byte goes to the exception filter (the envelope), with its headers (416's Content-Range). */
async function sendMedia(reply: FastifyReply, answer: () => Promise<MediaAnswer>): Promise<void> {
  let media: MediaAnswer;
  try {
    media = await answer();
  } catch (error) {
    const headers = (error as { headers?: Record<string, string> }).headers;
    if (headers) reply.headers(headers);
    throw error;
  }
  await reply.status(media.status).headers(media.headers).send(media.body);
}

@ApiTags('downloads')
@Controller('downloads')
export class DownloadsController {
  constructor(
    private readonly downloads: DownloadsService,
    private readonly media: MediaStreamService,
  ) {}

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

  @Get(':id/stream')
  @RawResponse()
  @ApiOperation({
    operationId: 'streamDownload',
    summary: 'Play the file: finished, or while a plain download runs, its bytes complete from the start (Range supported)',
    description: STREAM_DESCRIPTION,
  })
  @ApiHeader({ name: 'Range', required: false, description: 'One range, `bytes=<start>-<end>`, `bytes=<start>-` or `bytes=-<suffix>`; several ranges are answered with the whole' })
  @ApiQuery({ name: 'token', required: false, type: String, description: 'The API key, for a `<video>` element that cannot send headers' })
  @ApiResponse({ status: 200, description: 'The whole file (or the complete prefix of a running download)', headers: MEDIA_HEADERS, content: MEDIA_CONTENT })
  @ApiResponse({ status: 206, description: 'The range asked for; Content-Range says where it lies and the size', headers: { ...MEDIA_HEADERS, 'Content-Range': { schema: { type: 'string' }, description: 'bytes <start>-<end>/<size>' } }, content: MEDIA_CONTENT })
  @ApiErrors(ANY_API_ROUTE, ID_ROUTE, { 409: [ErrorCode.StreamNotReady], 416: [ErrorCode.RangeNotSatisfiable] })
  @ApiParam({ name: 'id', schema: { type: 'integer', minimum: 1 }, description: 'The task id, a positive integer' })
  stream(@Param('id', ParseIdPipe) id: number, @Headers('range') range: string | undefined, @Res() reply: FastifyReply): Promise<void> {
    return sendMedia(reply, () => this.media.file(id, range));
  }

  @Get(':id/stream.m3u8')
  @RawResponse()
  @ApiOperation({
    operationId: 'streamDownloadPlaylist',
    summary: 'Play a segmented download (HLS, DASH) while it runs: an HLS playlist of the segments on disk, growing',
    description: PLAYLIST_DESCRIPTION,
  })
  @ApiQuery({ name: 'token', required: false, type: String, description: 'The API key; it is repeated in the URLs the playlist lists, since a player cannot add headers to them' })
  @ApiResponse({ status: 200, description: 'An HLS playlist (EVENT type; EXT-X-ENDLIST once complete), or a master playlist when audio is a track of its own', content: PLAYLIST_CONTENT })
  @ApiErrors(ANY_API_ROUTE, ID_ROUTE, { 409: [ErrorCode.StreamNotReady] })
  @ApiParam({ name: 'id', schema: { type: 'integer', minimum: 1 }, description: 'The task id, a positive integer' })
  streamPlaylist(@Param('id', ParseIdPipe) id: number, @Query('token') token: unknown, @Res() reply: FastifyReply): Promise<void> {
    return sendMedia(reply, () => this.media.playlist(id, typeof token === 'string' ? token : undefined));
  }

  @Get(':id/stream/tracks/:track')
  @RawResponse()
  @ApiOperation({ operationId: 'streamDownloadTrack', summary: "One track's growing playlist (video.m3u8, audio.m3u8), as the master playlist names it" })
  @ApiQuery({ name: 'token', required: false, type: String, description: 'The API key, repeated in the segment URLs' })
  @ApiResponse({ status: 200, description: 'An HLS media playlist of the track', content: PLAYLIST_CONTENT })
  @ApiErrors(ANY_API_ROUTE, ID_ROUTE, { 404: [ErrorCode.SegmentNotFound], 409: [ErrorCode.StreamNotReady] })
  @ApiParam({ name: 'id', schema: { type: 'integer', minimum: 1 }, description: 'The task id, a positive integer' })
  @ApiParam({ name: 'track', schema: { type: 'string', enum: ['video.m3u8', 'audio.m3u8'] } })
  streamTrack(@Param('id', ParseIdPipe) id: number, @Param('track') track: string, @Query('token') token: unknown, @Res() reply: FastifyReply): Promise<void> {
    return sendMedia(reply, () => this.media.trackPlaylist(id, track, typeof token === 'string' ? token : undefined));
  }

  @Get(':id/stream/segments/:name')
  @RawResponse()
  @ApiOperation({ operationId: 'streamDownloadSegment', summary: 'A segment or init section a stream playlist lists, by the name it gives (e.g. video-12.ts, video-init-0.mp4)' })
  @ApiQuery({ name: 'token', required: false, type: String, description: 'The API key' })
  @ApiHeader({ name: 'Range', required: false, description: 'One byte range, as for the stream route' })
  @ApiResponse({ status: 200, description: 'The segment, as downloaded (decrypted, never transcoded)', content: SEGMENT_CONTENT })
  @ApiResponse({ status: 206, description: 'The range asked for', content: SEGMENT_CONTENT })
  @ApiErrors(ANY_API_ROUTE, ID_ROUTE, { 404: [ErrorCode.SegmentNotFound], 409: [ErrorCode.StreamNotReady], 416: [ErrorCode.RangeNotSatisfiable] })
  @ApiParam({ name: 'id', schema: { type: 'integer', minimum: 1 }, description: 'The task id, a positive integer' })
  @ApiParam({ name: 'name', schema: { type: 'string', pattern: '^(video|audio)-(init-)?[0-9]+\\.[a-z0-9]+$' }, description: 'A name from the playlist; looked up in the task\'s segment list, never used as a path' })
  streamSegment(@Param('id', ParseIdPipe) id: number, @Param('name') name: string, @Headers('range') range: string | undefined, @Res() reply: FastifyReply): Promise<void> {
    return sendMedia(reply, () => this.media.segment(id, name, range));
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
