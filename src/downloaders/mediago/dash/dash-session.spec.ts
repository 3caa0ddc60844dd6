import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DashManifest } from './mpd-manifest.js';
import { assertDownloadable, fingerprint, titleFromMpdUrl } from './dash-session.js';

const aManifest = (overrides: Partial<DashManifest>): DashManifest => ({ url: 'https://cdn.example/v/manifest.mpd?token=secret', dynamic: false, title: null, duration: 6, protection: [], periods: [], updatePeriod: null, ...overrides });

describe('assertDownloadable', () => {
  it('refuses encrypted presentations with a message naming why, without the query string; live ones are recorded', () => {
    assert.throws(() => assertDownloadable(aManifest({ protection: ['Widevine'] })), /^PermanentError: the DASH stream https:\/\/cdn\.example\/v\/manifest\.mpd is encrypted \(ContentProtection: Widevine\)/);
    assert.doesNotThrow(() => assertDownloadable(aManifest({ dynamic: true })));
    assert.doesNotThrow(() => assertDownloadable(aManifest({})));
  });
});

describe('fingerprint', () => {
  const plan = (url: string, start = 0) => [{ kind: 'video', requests: [{ label: 'x', url, range: { start, end: start + 9 }, path: '/w/segments/video/p0-000000.m4s' }] }];

  it('ignores query strings (tokens change between runs) but not ranges or paths', () => {
    assert.equal(fingerprint(plan('https://cdn.example/a.m4s?t=1')), fingerprint(plan('https://cdn.example/a.m4s?t=2')));
    assert.notEqual(fingerprint(plan('https://cdn.example/a.m4s')), fingerprint(plan('https://cdn.example/a.m4s', 10)));
    assert.notEqual(fingerprint(plan('https://cdn.example/a.m4s')), fingerprint(plan('https://cdn.example/b.m4s')));
  });
});

describe('titleFromMpdUrl', () => {
  it('takes the last path part that is not a generic manifest name', () => {
    assert.equal(titleFromMpdUrl('https://cdn.example/shows/Big%20Buck%20Bunny/dash/manifest.mpd?x=1'), 'Big Buck Bunny');
    assert.equal(titleFromMpdUrl('https://cdn.example/media/trailer-2024.mpd'), 'trailer-2024');
    assert.equal(titleFromMpdUrl('https://cdn.example/manifest.mpd'), undefined);
  });
});
