import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DownloadType } from '../common/download-type.enum.js';
import { listedLink, singleEntryLink } from '../engine/resolved-link.js';
import { type TaskDescription, expandedDescriptions } from './link-resolution.service.js';

const aDescription = (overrides: Partial<TaskDescription> = {}): TaskDescription => ({
  type: DownloadType.Bilibili,
  url: 'https://www.bilibili.com/video/BV1L9Uoa9EUx',
  name: 'BV1L9Uoa9EUx',
  nameIsDerived: true,
  folder: 'shows',
  headers: 'Cookie: a=1',
  isLive: false,
  speedLimit: 1000,
  ...overrides,
});

const entry = (number: number, title: string | null) => ({ number, title, url: `https://example.com/${number}`, duration: null });

describe('expandedDescriptions', () => {
  it('names entries "Title - 01 Entry" from the link title, keeping folder, headers and limit', () => {
    const tasks = expandedDescriptions(aDescription(), listedLink('parts', 'Lecture', [entry(1, 'Intro'), entry(2, null), entry(3, 'Lecture')], 1000));
    assert.deepEqual(tasks.map((task) => [task.name, task.url, task.nameIsDerived]), [
      ['Lecture - 01 Intro', 'https://example.com/1', false],
      ['Lecture - 02', 'https://example.com/2', false],
      ['Lecture - 03', 'https://example.com/3', false],
    ]);
    assert.ok(tasks.every((task) => task.folder === 'shows' && task.headers === 'Cookie: a=1' && task.speedLimit === 1000));
  });

  it('prefers the given name, pads to the widest number, and makes names safe', () => {
    const entries = Array.from({ length: 120 }, (_, index) => entry(index + 1, index === 0 ? 'a/b: c?' : `E${index + 1}`));
    const tasks = expandedDescriptions(aDescription({ name: 'My Show', nameIsDerived: false }), listedLink('playlist', 'Ignored', entries, 1000));
    assert.equal(tasks[0].name, 'My Show - 001 a_b_ c_');
    assert.equal(tasks[119].name, 'My Show - 120 E120');
  });

  it('keeps a link that is one thing as it was, with the title it found when the name was derived', () => {
    const [task] = expandedDescriptions(aDescription(), singleEntryLink('https://www.bilibili.com/video/BV1L9Uoa9EUx', 'A title'));
    assert.deepEqual([task.url, task.name, task.nameIsDerived], ['https://www.bilibili.com/video/BV1L9Uoa9EUx', 'A title', true]);
    const [named] = expandedDescriptions(aDescription({ name: 'Mine', nameIsDerived: false }), singleEntryLink('https://x.example/v', 'A title'));
    assert.equal(named.name, 'Mine');
  });

  it('keeps the number inside the file-name limit whatever the title length', () => {
    const [first] = expandedDescriptions(aDescription(), listedLink('parts', 'T'.repeat(400), [entry(1, 'P'.repeat(400)), entry(2, 'Q')], 1000));
    assert.match(first.name, /^T{120} - 01 P+$/);
  });
});
