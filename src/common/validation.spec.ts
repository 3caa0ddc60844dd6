import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { CreateDownloadsDto } from '../downloads/dto/create-downloads.dto.js';
import { ListDownloadsQueryDto } from '../downloads/dto/list-downloads-query.dto.js';
import { SetStatusDto } from '../downloads/dto/set-status.dto.js';
import { UpdateDownloadDto } from '../downloads/dto/update-download.dto.js';
import { ApiError } from './error-codes.js';
import { createValidationPipe, describeValidationErrors } from './validation.js';

/** What the global pipe does before describing: transform, then validate with the whitelist. */
async function problems<T extends object>(dto: new () => T, plain: unknown): Promise<string[]> {
  const errors = await validate(plainToInstance(dto, plain) as object, { whitelist: true });
  return describeValidationErrors(errors);
}

const aTask = (overrides: Record<string, unknown> = {}) => ({ type: 'direct', url: 'https://example.com/video.mp4', ...overrides });

describe('describeValidationErrors', () => {
  it('says nothing for a valid request', async () => {
    assert.deepEqual(await problems(CreateDownloadsDto, { tasks: [aTask(), aTask({ type: 'bilibili', url: 'BV1xx411c7mD', folder: 'a/b', headers: ['A: 1'] })] }), []);
  });

  it('names nested array items as tasks[i].field', async () => {
    const messages = await problems(CreateDownloadsDto, {
      tasks: [aTask(), aTask({ url: 'ftp://example.com/x' }), aTask({ type: 'torrent' })],
    });
    assert.deepEqual(messages, ['tasks[1].url must use http:// or https://', 'tasks[2].type must be one of m3u8, bilibili, direct, youtube, mediago']);
  });

  it('lists every problem of every item', async () => {
    const messages = await problems(CreateDownloadsDto, {
      tasks: [aTask({ url: '', folder: '../up', headers: 'no colon', name: 'a\u0000b', isLive: 'yes' })],
    });
    assert.deepEqual(new Set(messages), new Set([
      'tasks[0].url must be a non-empty string',
      'tasks[0].name must not contain a NUL byte',
      'tasks[0].folder must not contain ".." segments',
      'tasks[0].headers are invalid: line 1 ("no colon") is not of the form "Name: value"',
      'tasks[0].isLive must be a boolean value',
    ]));
    assert.equal(messages.length, 5);
  });

  it('ignores unknown fields, top level and nested, while still judging the known ones', async () => {
    assert.deepEqual(await problems(CreateDownloadsDto, { tasks: [aTask({ priority: 1 })], dryRun: true }), []);
    assert.deepEqual(await problems(CreateDownloadsDto, { tasks: [aTask({ priority: 1, isLive: 'no' })], dryRun: true }), ['tasks[0].isLive must be a boolean value']);
  });

  it('reads the type of a sibling to judge a url (a bare BV id is a bilibili url only)', async () => {
    assert.deepEqual(await problems(CreateDownloadsDto, { tasks: [aTask({ type: 'bilibili', url: 'av170001' })] }), []);
    assert.deepEqual(await problems(CreateDownloadsDto, { tasks: [aTask({ url: 'BV1xx411c7mD' })] }), ['tasks[0].url must be an http(s):// URL']);
    assert.deepEqual(await problems(CreateDownloadsDto, { tasks: [aTask({ type: 'bilibili', url: 'BV1' })] }), ['tasks[0].url must be an http(s):// URL or a BV…/av… id']);
  });

  it('names the array itself for a wrong shape, and an item that is not an object by its index', async () => {
    assert.deepEqual(await problems(CreateDownloadsDto, { tasks: [] }), ['tasks must contain at least 1 elements']);
    assert.ok((await problems(CreateDownloadsDto, { tasks: 'x' })).includes('tasks must be an array'));
    assert.deepEqual(await problems(CreateDownloadsDto, { tasks: ['https://example.com/a.mp4'] }), ['tasks[0]: each value in nested property tasks must be either object or array']);
  });

  it('refuses more than 1000 tasks, naming the array', async () => {
    const tasks = Array.from({ length: 1001 }, () => aTask());
    assert.deepEqual(await problems(CreateDownloadsDto, { tasks }), ['tasks must contain no more than 1000 elements']);
  });

  it('keeps custom messages of flat DTOs', async () => {
    assert.deepEqual(await problems(SetStatusDto, { ids: [1, 0], status: 'downloading' }), [
      'ids must contain only positive integers',
      'status must be one of waiting, stopped, success, failed (only the service sets downloading)',
    ]);
    assert.deepEqual(await problems(UpdateDownloadDto, { folder: 'C:\\x' }), ['folder must be a relative sub-directory, not an absolute path']);
  });

  it('states each problem once, even when several constraints of a field share one message', async () => {
    // pageSize=abc fails IsInt, Min and Max, which all carry "pageSize must be an integer from 1 to 100"
    const messages = await problems(ListDownloadsQueryDto, { pageSize: 'abc' });
    assert.deepEqual(messages, ['pageSize must be an integer from 1 to 100']);
  });

  it('lets ?token= through the query whitelist', async () => {
    assert.deepEqual(await problems(ListDownloadsQueryDto, { token: 'secret-key', current: '2', filter: 'done' }), []);
  });
});

describe('createValidationPipe', () => {
  const pipe = createValidationPipe();

  it('answers 400 validation_failed with every problem in one sentence list and each field on its own', async () => {
    await assert.rejects(
      pipe.transform({ tasks: [aTask({ url: 'ftp://x' }), aTask({ extra: 1, folder: '../up' })] }, { type: 'body', metatype: CreateDownloadsDto }),
      (error: unknown) => {
        assert.ok(error instanceof ApiError);
        assert.equal(error.getStatus(), 400);
        assert.equal(error.errorCode, 'validation_failed');
        assert.equal(error.message, 'Invalid request: tasks[0].url must use http:// or https://; tasks[1].folder must not contain ".." segments');
        assert.deepEqual(error.fields, [
          { path: 'tasks[0].url', message: 'tasks[0].url must use http:// or https://' },
          { path: 'tasks[1].folder', message: 'tasks[1].folder must not contain ".." segments' },
        ]);
        return true;
      },
    );
  });

  it('drops unknown body fields and query parameters instead of refusing them', async () => {
    const body = (await pipe.transform({ tasks: [aTask({ extra: 1 })], dryRun: true }, { type: 'body', metatype: CreateDownloadsDto })) as Record<string, unknown>;
    assert.equal('dryRun' in body, false);
    assert.equal('extra' in (body.tasks as Record<string, unknown>[])[0], false);
    const query = (await pipe.transform({ _: '1700000000', current: '2' }, { type: 'query', metatype: ListDownloadsQueryDto })) as Record<string, unknown>;
    assert.equal('_' in query, false);
    assert.equal(query.current, 2);
  });

  it('converts query strings to numbers, but leaves route params as sent', async () => {
    const query = (await pipe.transform({ current: '2', pageSize: '50' }, { type: 'query', metatype: ListDownloadsQueryDto })) as ListDownloadsQueryDto;
    assert.equal(query.current, 2);
    assert.equal(query.pageSize, 50);
    assert.equal(await pipe.transform('1e3', { type: 'param', metatype: Number, data: 'id' }), '1e3');
  });
});
