import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideMediaKind, isText, sniff } from './media-probe.js';

const mp4Head = Buffer.concat([Buffer.from([0, 0, 0, 0x20]), Buffer.from('ftypisom'), Buffer.alloc(24)]);
const decide = (contentType: string | null, url: string, head: Buffer | string) =>
  decideMediaKind({ contentType, url, head: Buffer.isBuffer(head) ? head : Buffer.from(head) }).kind;

describe('decideMediaKind', () => {
  it('recognises HLS by its first line whatever the label, BOM and leading blank lines included', () => {
    assert.equal(decide('text/plain', 'https://cdn.example/a', '#EXTM3U\n#EXT-X-VERSION:3\n'), 'hls');
    assert.equal(decide('application/octet-stream', 'https://cdn.example/a.bin', '\uFEFF\r\n#EXTM3U\n'), 'hls');
  });

  it('recognises an MPD root after an XML declaration and comments, with or without a namespace prefix', () => {
    assert.equal(decide('text/xml', 'https://cdn.example/a', '<?xml version="1.0"?>\n<!-- packager -->\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011">'), 'dash');
    assert.equal(decide(null, 'https://cdn.example/a', '<dash:MPD type="static">'), 'dash');
  });

  it('uses the content type when the bytes say nothing', () => {
    assert.equal(decide('application/vnd.apple.mpegurl; charset=utf-8', 'https://cdn.example/a', ''), 'hls');
    assert.equal(decide('application/dash+xml', 'https://cdn.example/a', ''), 'dash');
    assert.equal(decide('video/mp4', 'https://cdn.example/a', Buffer.from([1, 2, 3, 0])), 'file');
  });

  it('uses the URL extension for manifests served with a generic label', () => {
    assert.equal(decide('application/octet-stream', 'https://cdn.example/live/index.m3u8?token=1', ''), 'hls');
    assert.equal(decide(null, 'https://cdn.example/v/stream.mpd', ''), 'dash');
  });

  it('treats media containers, media types and media extensions as plain files', () => {
    assert.equal(decide('application/octet-stream', 'https://cdn.example/get?id=1', mp4Head), 'file');
    assert.equal(decide(null, 'https://cdn.example/a', Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3]), Buffer.alloc(8)])), 'file');
    assert.equal(decide('audio/mpeg', 'https://cdn.example/a', 'ID3\u0003'), 'file');
    assert.equal(decide('application/zip', 'https://cdn.example/a.zip', Buffer.from([0x50, 0x4b, 3, 4, 0, 0])), 'file');
    assert.equal(decide(null, 'https://cdn.example/clip.mkv', ''), 'file');
  });

  it('says html for a web page, even one reached through a .mp4 URL', () => {
    assert.equal(decide('text/html; charset=utf-8', 'https://site.example/watch?v=1', '<!DOCTYPE html><html>'), 'html');
    assert.equal(decide('video/mp4', 'https://cdn.example/clip.mp4', '  <html lang="en"><head>'), 'html');
    assert.equal(decide('text/html', 'https://site.example/watch', ''), 'html');
  });

  it('leaves text that is no manifest unrecognised', () => {
    assert.equal(decide('application/json', 'https://api.example/v1/video', '{"url":"x"}'), 'unknown');
    assert.equal(decide('text/plain', 'https://site.example/readme', 'hello'), 'unknown');
    assert.equal(decide('text/xml', 'https://site.example/feed', '<?xml version="1.0"?><rss>'), 'unknown');
  });

  it('says which clue decided', () => {
    assert.equal(decideMediaKind({ contentType: 'text/plain', url: 'https://a/b', head: Buffer.from('#EXTM3U') }).by, 'bytes');
    assert.equal(decideMediaKind({ contentType: 'application/dash+xml', url: 'https://a/b', head: Buffer.alloc(0) }).by, 'content type');
    assert.equal(decideMediaKind({ contentType: null, url: 'https://a/b.m3u8', head: Buffer.alloc(0) }).by, 'extension');
  });
});

describe('sniff and isText', () => {
  it('needs three sync bytes before calling something MPEG-TS', () => {
    const ts = Buffer.alloc(377);
    ts[0] = ts[188] = ts[376] = 0x47;
    assert.equal(sniff(ts), 'file');
    assert.equal(sniff(Buffer.from('Gone fishing')), null);
  });

  it('tells text from binary', () => {
    assert.equal(isText(Buffer.from('#EXTM3U\r\n\tok')), true);
    assert.equal(isText(Buffer.from([0x41, 0x00, 0x42])), false);
  });
});
