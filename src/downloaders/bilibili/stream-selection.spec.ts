import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PermanentError } from '../../engine/http-error.js';
import type { DashStream, PlayInfo } from './bilibili-api.types.js';
import { DEFAULT_STREAM_PREFERENCES, chooseAudio, chooseStreams, chooseVideo, parseCodecPreference, videoCodecOf } from './stream-selection.js';

const CODECS = { avc: [7, 'avc1.640032'], hevc: [12, 'hev1.1.6.L150.90'], av1: [13, 'av01.0.08M.08.0.110.01.01.01.0'] } as const;

/** A DASH entry as the API sends it, in camelCase or snake_case. */
function aStream(id: number, codec: keyof typeof CODECS | 'aac', bandwidth: number, style: 'camel' | 'snake' = 'camel'): DashStream {
  const url = `https://upos-sz-mirrorcos.bilivideo.com/${id}-${codec}-${bandwidth}.m4s`;
  const backup = [`https://upos-sz-mirrorali.bilivideo.com/${id}-${codec}-${bandwidth}.m4s`];
  const [codecid, codecs] = codec === 'aac' ? [0, 'mp4a.40.2'] : CODECS[codec];
  const urls = style === 'camel' ? { baseUrl: url, backupUrl: backup } : { base_url: url, backup_url: backup };
  return { id, ...urls, bandwidth, codecid, codecs, width: id * 10, height: id * 5 };
}

describe('chooseVideo', () => {
  it('puts HDR and Dolby Vision after every SDR quality unless asked for them', () => {
    const offered = [aStream(126, 'hevc', 20_000_000), aStream(125, 'hevc', 18_000_000), aStream(120, 'avc', 15_000_000), aStream(80, 'avc', 3_000_000)];
    assert.equal(chooseVideo(offered)?.id, 120);
    assert.equal(chooseVideo(offered, { ...DEFAULT_STREAM_PREFERENCES, highDynamicRange: true })?.id, 126);
    assert.equal(chooseVideo([aStream(126, 'hevc', 20_000_000)])?.id, 126, 'still chosen when it is all there is');
  });

  it('takes the highest quality id, whatever the bandwidth of lower ones', () => {
    const video = chooseVideo([aStream(32, 'avc', 9_000_000), aStream(80, 'avc', 2_000_000), aStream(64, 'avc', 5_000_000)]);
    assert.equal(video?.id, 80);
  });

  it('prefers avc, then hevc, then av1 at the same quality by default', () => {
    assert.equal(chooseVideo([aStream(80, 'av1', 3_000_000), aStream(80, 'hevc', 2_500_000), aStream(80, 'avc', 2_000_000)])?.codec, 'avc');
    assert.equal(chooseVideo([aStream(80, 'av1', 3_000_000), aStream(80, 'hevc', 2_500_000)])?.codec, 'hevc');
    assert.equal(chooseVideo([aStream(80, 'av1', 3_000_000), aStream(64, 'avc', 4_000_000)])?.id, 80, 'quality comes before codec');
  });

  it('follows a configured codec order', () => {
    const streams = [aStream(80, 'avc', 2_000_000), aStream(80, 'hevc', 1_500_000), aStream(80, 'av1', 1_000_000)];
    assert.equal(chooseVideo(streams, { ...DEFAULT_STREAM_PREFERENCES, videoCodecs: ['av1', 'hevc', 'avc'] })?.codec, 'av1');
    assert.equal(chooseVideo(streams, { ...DEFAULT_STREAM_PREFERENCES, videoCodecs: ['hevc'] })?.codec, 'hevc');
  });

  it('takes the highest bandwidth among equals', () => {
    const video = chooseVideo([aStream(80, 'avc', 2_000_000), aStream(80, 'avc', 2_600_000), aStream(80, 'avc', 2_200_000)]);
    assert.equal(video?.bandwidth, 2_600_000);
  });

  it('reads snake_case and camelCase URLs, main URL first, without repeats', () => {
    const snake = chooseVideo([aStream(80, 'avc', 1, 'snake')]);
    assert.deepEqual(snake?.urls, ['https://upos-sz-mirrorcos.bilivideo.com/80-avc-1.m4s', 'https://upos-sz-mirrorali.bilivideo.com/80-avc-1.m4s']);
    const both: DashStream = { ...aStream(80, 'avc', 1), base_url: 'https://a/x.m4s', baseUrl: 'https://a/x.m4s', backup_url: ['https://b/x.m4s'], backupUrl: ['https://b/x.m4s', 'https://c/x.m4s'] };
    assert.deepEqual(chooseVideo([both])?.urls, ['https://a/x.m4s', 'https://b/x.m4s', 'https://c/x.m4s']);
  });

  it('skips entries without any URL', () => {
    const empty: DashStream = { id: 120, codecid: 7, bandwidth: 9_000_000 };
    assert.equal(chooseVideo([empty, aStream(80, 'avc', 1)])?.id, 80);
    assert.equal(chooseVideo([empty]), null);
  });
});

describe('videoCodecOf', () => {
  it('reads codecid, and the codecs string when codecid is missing', () => {
    assert.equal(videoCodecOf({ codecid: 12 }), 'hevc');
    assert.equal(videoCodecOf({ codecs: 'hvc1.1.6.L150.90' }), 'hevc');
    assert.equal(videoCodecOf({ codecs: 'av01.0.08M.08' }), 'av1');
    assert.equal(videoCodecOf({ codecs: 'avc1.64001F' }), 'avc');
    assert.equal(videoCodecOf({ codecs: 'vp09.00.10.08' }), null);
  });
});

describe('chooseAudio', () => {
  const standard = [aStream(30216, 'aac', 67_000), aStream(30280, 'aac', 319_000), aStream(30232, 'aac', 132_000)];
  const dolby = { type: 1, audio: [{ ...aStream(30250, 'aac', 448_000), codecs: 'ec-3' }] };
  const flac = { display: true, audio: { ...aStream(30251, 'aac', 1_200_000), codecs: 'fLaC' } };

  it('takes the best AAC stream', () => {
    assert.equal(chooseAudio({ audio: standard })?.id, 30280);
    assert.equal(chooseAudio({ audio: standard, dolby: { type: 0, audio: null }, flac: null })?.format, 'aac');
  });

  it('prefers Hi-Res and Dolby audio when offered, unless they are turned off', () => {
    assert.equal(chooseAudio({ audio: standard, dolby, flac })?.format, 'flac');
    assert.equal(chooseAudio({ audio: standard, dolby })?.format, 'dolby');
    const plain = chooseAudio({ audio: standard, dolby, flac }, { ...DEFAULT_STREAM_PREFERENCES, specialAudio: false });
    assert.equal(plain?.id, 30280);
  });

  it('answers null when there is no audio at all', () => {
    assert.equal(chooseAudio({ audio: null }), null);
  });
});

describe('chooseStreams', () => {
  it('takes DASH when there is a DASH video', () => {
    const info: PlayInfo = { dash: { video: [aStream(64, 'avc', 1), aStream(80, 'hevc', 1)], audio: [aStream(30280, 'aac', 1)] }, durl: null };
    const choice = chooseStreams(info);
    assert.equal(choice.mode, 'dash');
    assert.equal(choice.mode === 'dash' && choice.video?.id, 80);
    assert.equal(choice.mode === 'dash' && choice.audio?.id, 30280);
  });

  it('falls back to durl parts in order, with their backups and sizes', () => {
    const info: PlayInfo = {
      quality: 32,
      format: 'flv480',
      durl: [
        { order: 2, size: 200, url: 'https://cdn/x-2-32.flv', backup_url: ['https://bak/x-2-32.flv'] },
        { order: 1, size: 100, url: 'https://cdn/x-1-32.flv', backup_url: null },
      ],
    };
    const choice = chooseStreams(info);
    assert.deepEqual(choice, {
      mode: 'durl',
      notes: [],
      quality: 32,
      container: 'flv',
      parts: [
        { order: 1, urls: ['https://cdn/x-1-32.flv'], size: 100 },
        { order: 2, urls: ['https://cdn/x-2-32.flv', 'https://bak/x-2-32.flv'], size: 200 },
      ],
    });
  });

  it('falls back to durl when the DASH block has no video, and tells mp4 from flv', () => {
    const choice = chooseStreams({ format: 'mp4', dash: { video: [], audio: [] }, durl: [{ order: 1, url: 'https://cdn/x-1-16.mp4?e=1' }] });
    assert.equal(choice.mode === 'durl' && choice.container, 'mp4');
  });

  it('takes the tallest picture not above a maximum height, keeping HDR after SDR of the same height, else the nearest with a note', () => {
    const offered = [aStream(126, 'hevc', 20_000_000), aStream(125, 'hevc', 18_000_000), aStream(120, 'avc', 15_000_000), aStream(80, 'avc', 3_000_000), aStream(64, 'avc', 1_000_000)];
    const dash = (streams: DashStream[]) => ({ dash: { video: streams, audio: [aStream(30280, 'aac', 1)] }, durl: null });
    // aStream's height is id × 5: 80 → 400 lines, 64 → 320, 120 → 600, 125/126 → 625/630
    const pick = (quality: number | 'audio' | 'best', streams = offered, preferences = DEFAULT_STREAM_PREFERENCES) => chooseStreams(dash(streams), preferences, quality);
    const videoId = (choice: ReturnType<typeof chooseStreams>) => (choice.mode === 'dash' ? choice.video?.id : undefined);
    assert.equal(videoId(pick(400)), 80);
    assert.equal(videoId(pick(610)), 120);
    assert.equal(videoId(pick(1000)), 120, 'HDR stays behind SDR unless allowed');
    assert.equal(videoId(pick(1000, offered, { ...DEFAULT_STREAM_PREFERENCES, highDynamicRange: true })), 126);
    const nearest = pick(100);
    assert.equal(videoId(nearest), 64);
    assert.deepEqual(nearest.notes, ['no picture of at most 100 lines is offered (offered: 320p, 400p, 600p); took the nearest, 320p']);
    const sound = pick('audio');
    assert.deepEqual(sound.mode === 'dash' && [sound.video, sound.audio?.id], [null, 30280]);
    assert.throws(() => chooseStreams({ dash: { video: offered, audio: [] }, durl: null }, DEFAULT_STREAM_PREFERENCES, 'audio'), /no audio stream/);
  });

  it('fails clearly when nothing is playable', () => {
    assert.throws(() => chooseStreams({ dash: null, durl: [] }), PermanentError);
    assert.throws(() => chooseStreams({}), /no playable stream/);
  });
});

describe('parseCodecPreference', () => {
  it('reads a comma or space separated list and refuses unknown codecs', () => {
    assert.deepEqual(parseCodecPreference('hevc, AVC av1'), ['hevc', 'avc', 'av1']);
    assert.throws(() => parseCodecPreference('h264'), /unknown video codec "h264"/);
  });
});
