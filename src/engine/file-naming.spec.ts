import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HttpResponse } from './http-client.js';
import { fileNameFromContentDisposition, fileNameFromUrl, nameFromUrl, pickExtension, titleFromResponse } from './file-naming.js';

const someHeaders = (headers: { disposition?: string | string[]; type?: string } = {}): HttpResponse['headers'] => ({
  'content-disposition': headers.disposition,
  'content-type': headers.type,
});

describe('fileNameFromContentDisposition', () => {
  it('reads a quoted filename', () => {
    assert.equal(fileNameFromContentDisposition('attachment; filename="report 2024.pdf"'), 'report 2024.pdf');
    assert.equal(fileNameFromContentDisposition('attachment; filename="a;b.txt"; size=3'), 'a;b.txt');
  });

  it('reads an unquoted filename, up to the next parameter', () => {
    assert.equal(fileNameFromContentDisposition('attachment; filename=clip.mp4'), 'clip.mp4');
    assert.equal(fileNameFromContentDisposition('attachment; filename = clip.mp4 ; size=3'), 'clip.mp4');
  });

  it('unescapes backslash escapes inside quotes', () => {
    assert.equal(fileNameFromContentDisposition('attachment; filename="say \\"hi\\" \\\\ bye.txt"'), 'say "hi" \\ bye.txt');
  });

  it('prefers filename* (RFC 5987), decoding it, wherever it stands', () => {
    assert.equal(fileNameFromContentDisposition("attachment; filename*=UTF-8''na%C3%AFve%20file.txt"), 'naïve file.txt');
    assert.equal(fileNameFromContentDisposition("attachment; filename=\"fallback.txt\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.mp4"), '日本.mp4');
    assert.equal(fileNameFromContentDisposition("attachment; filename*=utf-8'en'real.txt; filename=\"fallback.txt\""), 'real.txt');
  });

  it('falls back to filename when filename* holds a broken escape', () => {
    assert.equal(fileNameFromContentDisposition("attachment; filename*=UTF-8''bad%E0%A4%A.txt; filename=\"good.txt\""), 'good.txt');
  });

  it('is case-insensitive about the parameter name', () => {
    assert.equal(fileNameFromContentDisposition('ATTACHMENT; FILENAME="Loud.MP4"'), 'Loud.MP4');
  });

  it('gives null without a usable name', () => {
    for (const value of [undefined, '', 'inline', 'attachment', 'attachment; filename=""', 'attachment; name="field"']) {
      assert.equal(fileNameFromContentDisposition(value), null, JSON.stringify(value));
    }
  });
});

describe('fileNameFromUrl', () => {
  it('gives the last path segment, decoded, ignoring query and trailing slashes', () => {
    assert.equal(fileNameFromUrl('https://example.com/a/My%20Clip.mp4?x=1#y'), 'My Clip.mp4');
    assert.equal(fileNameFromUrl('https://example.com/a/folder/'), 'folder');
  });

  it('gives null for a bare host, or what is not a URL', () => {
    assert.equal(fileNameFromUrl('https://example.com/'), null);
    assert.equal(fileNameFromUrl('https://example.com'), null);
    assert.equal(fileNameFromUrl('not a url'), null);
  });
});

describe('pickExtension', () => {
  const FINAL = 'https://cdn.example.com/objects/final.webm';
  const REQUESTED = 'https://example.com/files/requested.mov';
  const NO_EXTENSION = 'https://example.com/download?id=42';

  it('prefers the Content-Disposition name', () => {
    assert.equal(pickExtension(someHeaders({ disposition: 'attachment; filename="x.mkv"', type: 'video/mp4' }), FINAL, REQUESTED), 'mkv');
  });

  it('then the URL after redirects', () => {
    assert.equal(pickExtension(someHeaders({ type: 'video/mp4' }), FINAL, REQUESTED), 'webm');
    assert.equal(pickExtension(someHeaders({ disposition: 'attachment; filename="no-extension"', type: 'video/mp4' }), FINAL, REQUESTED), 'webm');
  });

  it('then the URL as requested', () => {
    assert.equal(pickExtension(someHeaders({ type: 'video/mp4' }), NO_EXTENSION, REQUESTED), 'mov');
  });

  it('then the Content-Type, ignoring its parameters and case', () => {
    assert.equal(pickExtension(someHeaders({ type: 'Video/MP4; codecs="avc1"' }), NO_EXTENSION, NO_EXTENSION), 'mp4');
    assert.equal(pickExtension(someHeaders({ type: 'application/vnd.apple.mpegurl' }), NO_EXTENSION, NO_EXTENSION), 'm3u8');
    assert.equal(pickExtension(someHeaders({ type: 'audio/mpeg' }), NO_EXTENSION, NO_EXTENSION), 'mp3');
  });

  it('else "bin"', () => {
    assert.equal(pickExtension(someHeaders({ type: 'application/octet-stream' }), NO_EXTENSION, NO_EXTENSION), 'bin');
    assert.equal(pickExtension(someHeaders(), NO_EXTENSION, NO_EXTENSION), 'bin');
  });

  it('lower-cases extensions and skips ones that are too long or not alphanumeric', () => {
    assert.equal(pickExtension(someHeaders({ disposition: 'attachment; filename="LOUD.MP4"' }), NO_EXTENSION, NO_EXTENSION), 'mp4');
    assert.equal(pickExtension(someHeaders({ type: 'video/mp4' }), 'https://example.com/file.verylongext', NO_EXTENSION), 'mp4');
    assert.equal(pickExtension(someHeaders({ type: 'video/mp4' }), 'https://example.com/file.m-4', NO_EXTENSION), 'mp4');
    assert.equal(pickExtension(someHeaders(), 'https://example.com/a.b/file', 'https://example.com/v.flv'), 'flv', 'a dot in a directory is no extension');
  });

  it('reads the first value of a repeated header', () => {
    assert.equal(pickExtension(someHeaders({ disposition: ['attachment; filename="a.ogg"', 'attachment; filename="b.mp3"'] }), NO_EXTENSION, NO_EXTENSION), 'ogg');
  });
});

describe('titleFromResponse', () => {
  it("gives the server's proposed name without its extension", () => {
    assert.equal(titleFromResponse(someHeaders({ disposition: 'attachment; filename="Concert 2024.mp4"' })), 'Concert 2024');
    assert.equal(titleFromResponse(someHeaders({ disposition: 'attachment; filename="archive.tar.gz"' })), 'archive.tar');
    assert.equal(titleFromResponse(someHeaders({ disposition: 'attachment; filename="README"' })), 'README');
  });

  it('gives undefined without a proposed name', () => {
    assert.equal(titleFromResponse(someHeaders({ type: 'video/mp4' })), undefined);
  });
});

describe('nameFromUrl', () => {
  it("is the URL's file name without extension", () => {
    assert.equal(nameFromUrl('https://example.com/videos/My%20Clip.mp4?token=x'), 'My Clip');
    assert.equal(nameFromUrl('https://example.com/stream/index.m3u8'), 'index');
    assert.equal(nameFromUrl('https://example.com/files/archive.tar.gz'), 'archive.tar');
  });

  it('keeps what does not look like an extension', () => {
    assert.equal(nameFromUrl('https://example.com/watch'), 'watch');
    assert.equal(nameFromUrl('https://example.com/v/file.verylongextension'), 'file.verylongextension');
    assert.equal(nameFromUrl('https://example.com/v/.hidden'), '.hidden');
  });

  it('is the host name when the path is empty', () => {
    assert.equal(nameFromUrl('https://media.example.com/'), 'media.example.com');
    assert.equal(nameFromUrl('https://media.example.com/?id=1'), 'media.example.com');
  });

  it('is the text itself when it is not a URL', () => {
    assert.equal(nameFromUrl('BV1xx411c7mD'), 'BV1xx411c7mD');
  });
});
