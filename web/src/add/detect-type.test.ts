import { describe, expect, it } from 'vitest';
import { detectType, splitLinks } from './detect-type';

describe('detectType', () => {
  it.each([
    ['https://www.bilibili.com/video/BV1xx411c7mD?p=2', 'bilibili'],
    ['https://b23.tv/abc123', 'bilibili'],
    ['BV1xx411c7mD', 'bilibili'],
    ['av170001', 'bilibili'],
    ['https://www.youtube.com/watch?v=dQw4w9WgXcQ', 'youtube'],
    ['https://youtu.be/dQw4w9WgXcQ', 'youtube'],
    ['https://vimeo.com/76979871', 'youtube'],
    ['https://cdn.example.com/live/index.m3u8?token=1', 'm3u8'],
    ['https://cdn.example.com/vod/manifest.mpd', 'mediago'],
    ['https://example.com/files/release.zip', 'direct'],
    ['https://example.com/video.MP4', 'direct'],
    ['https://example.com/watch/123', 'mediago'],
    ['not a link', 'mediago'],
    ['https://notyoutube.com/watch', 'mediago'],
  ])('%s → %s', (input, type) => {
    expect(detectType(input)).toBe(type);
  });
});

describe('splitLinks', () => {
  it('keeps the non-empty lines, trimmed', () => {
    expect(splitLinks(' https://a/1.mp4 \r\n\n  \nhttps://b/2.m3u8\n')).toEqual(['https://a/1.mp4', 'https://b/2.m3u8']);
  });
});
