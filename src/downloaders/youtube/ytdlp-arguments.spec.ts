import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  COOKIES_FILE,
  PROGRESS_MARKER,
  RESULT_FILE,
  type YtdlpJob,
  type YtdlpSettings,
  buildYtdlpArguments,
  cookiesFileText,
  describeArguments,
  outputTemplate,
  proxyFor,
  workFileName,
  ytdlpEnvironment,
} from './ytdlp-arguments.js';

function aJob(overrides: Partial<YtdlpJob> = {}): YtdlpJob {
  return { id: 42, url: 'https://video.example/watch?v=abc', headers: [], isLive: false, deleteSegments: true, ...overrides };
}

function someSettings(overrides: Partial<YtdlpSettings> = {}): YtdlpSettings {
  return { ffmpegPath: '/usr/bin/ffmpeg', proxy: null, noProxy: null, concurrentFragments: 16, retries: 5, socketTimeoutSeconds: 30, ...overrides };
}

/** The value following an option, or undefined. */
function valueOf(args: string[], option: string): string | undefined {
  const index = args.indexOf(option);
  return index === -1 ? undefined : args[index + 1];
}

function valuesOf(args: string[], option: string): string[] {
  return args.flatMap((arg, index) => (arg === option ? [args[index + 1]] : []));
}

describe('buildYtdlpArguments', () => {
  it('is deterministic', () => {
    assert.deepEqual(buildYtdlpArguments(aJob(), someSettings()), buildYtdlpArguments(aJob(), someSettings()));
  });

  it('ends with the URL after "--", so a URL can never be read as an option', () => {
    const args = buildYtdlpArguments(aJob(), someSettings());
    assert.deepEqual(args.slice(-2), ['--', 'https://video.example/watch?v=abc']);
  });

  it('ignores every config file, never updates, and resumes without touching mtimes or playlists', () => {
    const args = buildYtdlpArguments(aJob(), someSettings());
    for (const flag of ['--ignore-config', '--no-update', '--no-playlist', '--no-mtime', '--continue', '--part', '--newline', '--no-colors']) {
      assert.ok(args.includes(flag), `${flag} is passed`);
    }
    assert.ok(!args.includes('--print') && !args.includes('-O'), '--print would make yt-dlp quiet');
  });

  it("passes the task's speed limit as --limit-rate, and none without one", () => {
    assert.equal(valueOf(buildYtdlpArguments(aJob({ speedLimit: 4 * 1024 * 1024 }), someSettings()), '--limit-rate'), '4194304');
    assert.ok(!buildYtdlpArguments(aJob({ speedLimit: null }), someSettings()).includes('--limit-rate'));
  });

  it('downloads one item only, even from a playlist', () => {
    assert.equal(valueOf(buildYtdlpArguments(aJob(), someSettings()), '--playlist-items'), '1');
  });

  it('prints machine-readable progress and writes the final path to the result file', () => {
    const args = buildYtdlpArguments(aJob(), someSettings());
    const template = valueOf(args, '--progress-template')!;
    assert.ok(template.startsWith(`download:${PROGRESS_MARKER} `));
    for (const field of ['downloaded_bytes', 'total_bytes', 'total_bytes_estimate', 'fragment_index', 'fragment_count', 'filename']) {
      assert.ok(template.includes(field), `template has ${field}`);
    }
    const index = args.indexOf('--print-to-file');
    assert.deepEqual(args.slice(index + 1, index + 3), ['after_move:%(.{title,filepath,ext,height,language})j', RESULT_FILE]);
  });

  it('names the output after the task id, so that a renamed task still finds its partial files', () => {
    assert.equal(valueOf(buildYtdlpArguments(aJob({ id: 7 }), someSettings()), '--output'), 'task-7.%(ext)s');
    assert.equal(workFileName({ id: 7 }), 'task-7');
  });

  it('merges best video and best audio into mp4 with the ffmpeg it is given', () => {
    const args = buildYtdlpArguments(aJob(), someSettings({ ffmpegPath: '/opt/ffmpeg/bin/ffmpeg' }));
    assert.equal(valueOf(args, '--ffmpeg-location'), '/opt/ffmpeg/bin/ffmpeg');
    assert.equal(valueOf(args, '--format'), 'bv*+ba/b');
    assert.equal(valueOf(args, '--merge-output-format'), 'mp4');
  });

  it('picks the best single file when there is no ffmpeg to merge with', () => {
    const args = buildYtdlpArguments(aJob(), someSettings({ ffmpegPath: null }));
    assert.equal(valueOf(args, '--format'), 'b');
    assert.equal(valueOf(args, '--ffmpeg-location'), undefined);
    assert.equal(valueOf(args, '--merge-output-format'), undefined);
  });

  it('sends the other headers of the task, in order, as Name:value; cookies through the cookies file', () => {
    const args = buildYtdlpArguments(
      aJob({ headers: [['Referer', 'https://site.example/page'], ['Cookie', 'a=1; b=2'], ['User-Agent', 'Mozilla/5.0 (X11)']] }),
      someSettings(),
    );
    assert.deepEqual(valuesOf(args, '--add-header'), ['Referer:https://site.example/page', 'User-Agent:Mozilla/5.0 (X11)']);
    assert.equal(valueOf(args, '--cookies'), COOKIES_FILE);
  });

  it('never passes Cookie or Authorization as a header, whatever their case', () => {
    const args = buildYtdlpArguments(aJob({ headers: [['cookie', 'a=1'], ['AUTHORIZATION', 'Bearer secret'], ['authorization', 'Basic x']] }), someSettings());
    assert.deepEqual(valuesOf(args, '--add-header'), []);
    assert.ok(!args.join(' ').includes('secret'));
  });

  it('passes no cookies file when the task has no cookies', () => {
    assert.equal(valueOf(buildYtdlpArguments(aJob({ headers: [['Referer', 'https://a.example/']] }), someSettings()), '--cookies'), undefined);
  });

  it('uses the configured proxy, and an explicit direct connection without one', () => {
    assert.equal(valueOf(buildYtdlpArguments(aJob(), someSettings({ proxy: 'http://proxy.lan:3128' })), '--proxy'), 'http://proxy.lan:3128');
    assert.equal(valueOf(buildYtdlpArguments(aJob(), someSettings({ proxy: null })), '--proxy'), '');
  });

  it('takes the concurrency, retries and stall timeout from the settings', () => {
    const args = buildYtdlpArguments(aJob(), someSettings({ concurrentFragments: 7, retries: 3, socketTimeoutSeconds: 12 }));
    assert.equal(valueOf(args, '--concurrent-fragments'), '7');
    assert.equal(valueOf(args, '--retries'), '3');
    assert.equal(valueOf(args, '--fragment-retries'), '3');
    assert.equal(valueOf(args, '--socket-timeout'), '12');
  });

  it('marks a live job as live so that yt-dlp records it until interrupted', () => {
    assert.equal(valueOf(buildYtdlpArguments(aJob({ isLive: true }), someSettings()), '--parse-metadata'), '%(id)s:(?P<is_live>.+)');
    assert.equal(valueOf(buildYtdlpArguments(aJob({ isLive: false }), someSettings()), '--parse-metadata'), undefined);
    assert.ok(!buildYtdlpArguments(aJob({ isLive: true }), someSettings()).includes('--live-from-start'));
  });

  it('keeps the separate streams after merging when segments are to be kept', () => {
    assert.ok(buildYtdlpArguments(aJob({ deleteSegments: false }), someSettings()).includes('--keep-video'));
    assert.ok(!buildYtdlpArguments(aJob({ deleteSegments: true }), someSettings()).includes('--keep-video'));
  });

  it('asks for the best video and audio by default, and carries the choice into -f, -S, --sub-langs', () => {
    const plain = buildYtdlpArguments(aJob(), someSettings());
    assert.equal(valueOf(plain, '--format'), 'bv*+ba/b');
    assert.ok(!plain.includes('--format-sort') && !plain.includes('--write-subs') && !plain.includes('--extract-audio'));

    const chosen = buildYtdlpArguments(aJob({ quality: 720, audioLanguages: ['zh-Hans', 'en'], subtitleLanguages: ['zh', 'en'] }), someSettings());
    assert.equal(valueOf(chosen, '--format'), 'bv*+ba[language^=zh-Hans]/bv*+ba[language^=en]/bv*+ba/b');
    assert.equal(valueOf(chosen, '--format-sort'), 'res:720', 'the tallest not above 720, else the nearest above');
    assert.equal(valueOf(chosen, '--merge-output-format'), 'mp4');
    assert.ok(chosen.includes('--write-subs'));
    assert.equal(valueOf(chosen, '--sub-langs'), 'zh(-.*)?,en(-.*)?');
    assert.equal(valueOf(chosen, '--sub-format'), 'vtt/best');
    assert.equal(valueOf(chosen, '--convert-subs'), 'vtt');
    assert.ok(chosen.indexOf('--sub-langs') < chosen.indexOf('--'), 'options come before the URL');
  });

  it('keeps the sound alone for quality "audio", extracted by ffmpeg, or a single audio file without it', () => {
    const sound = buildYtdlpArguments(aJob({ quality: 'audio', audioLanguages: ['ja'] }), someSettings());
    assert.equal(valueOf(sound, '--format'), 'ba[language^=ja]/ba/b');
    assert.ok(sound.includes('--extract-audio'));
    assert.ok(!sound.includes('--merge-output-format'));
    const bare = buildYtdlpArguments(aJob({ quality: 'audio', subtitleLanguages: ['en'] }), someSettings({ ffmpegPath: null }));
    assert.equal(valueOf(bare, '--format'), 'ba/b');
    assert.ok(!bare.includes('--extract-audio') && !bare.includes('--convert-subs'), 'both need ffmpeg');
    assert.equal(valueOf(buildYtdlpArguments(aJob({ quality: 480 }), someSettings({ ffmpegPath: null })), '--format-sort'), 'res:480');
  });
});

describe('outputTemplate', () => {
  it('escapes "%" so that a name is never read as a template field', () => {
    assert.equal(outputTemplate('100% %(id)s'), '100%% %%(id)s.%(ext)s');
  });
});

describe('proxyFor', () => {
  const proxy = 'http://proxy.lan:3128';

  it('is empty without a proxy', () => {
    assert.equal(proxyFor('https://a.example/', null, null), '');
  });

  it('honours NO_PROXY hosts, domains, wildcards and ports', () => {
    assert.equal(proxyFor('https://a.example/v', proxy, 'b.example, a.example'), '');
    assert.equal(proxyFor('https://cdn.a.example/v', proxy, '.a.example'), '');
    assert.equal(proxyFor('https://cdn.a.example/v', proxy, '*.a.example'), '');
    assert.equal(proxyFor('https://cdn.a.example/v', proxy, 'a.example'), '');
    assert.equal(proxyFor('https://nota.example/v', proxy, 'a.example'), proxy);
    assert.equal(proxyFor('http://127.0.0.1:8080/v', proxy, '127.0.0.1:8080'), '');
    assert.equal(proxyFor('http://127.0.0.1:9090/v', proxy, '127.0.0.1:8080'), proxy);
    assert.equal(proxyFor('http://[::1]:8080/v', proxy, '[::1]:8080'), '');
    assert.equal(proxyFor('https://anything.example/', proxy, '*'), '');
    assert.equal(proxyFor('https://a.example/', proxy, ''), proxy);
  });
});

describe('cookiesFileText', () => {
  it('writes each cookie for the task host only, secure for https', () => {
    const text = cookiesFileText('https://Video.Example:8443/watch?v=1', ['a=1; b = two words ', 'c=x=y']);
    assert.equal(
      text,
      [
        '# Netscape HTTP Cookie File',
        '# cookies of the task, for video.example only',
        'video.example\tFALSE\t/\tTRUE\t0\ta\t1',
        'video.example\tFALSE\t/\tTRUE\t0\tb\ttwo words',
        'video.example\tFALSE\t/\tTRUE\t0\tc\tx=y',
        '',
      ].join('\n'),
    );
  });

  it('lets http cookies travel in clear text, as the task asked, and skips parts it cannot write', () => {
    const lines = cookiesFileText('http://127.0.0.1:8080/', ['=nameless; novalue; tab=a\tb; ok=1']).trim().split('\n');
    assert.deepEqual(lines.slice(2), ['127.0.0.1\tFALSE\t/\tFALSE\t0\tok\t1']);
  });
});

describe('describeArguments', () => {
  it('masks header values and proxy credentials', () => {
    const args = buildYtdlpArguments(aJob({ headers: [['X-Token', 'session=secret']] }), someSettings({ proxy: 'http://user:pw@proxy.lan:3128' }));
    const text = describeArguments(args);
    assert.ok(!text.includes('secret') && !text.includes('user:pw'), text);
    assert.ok(text.includes('X-Token:***'));
    assert.ok(text.includes('http://***@proxy.lan:3128'));
  });

  it('quotes arguments a shell would split', () => {
    assert.equal(describeArguments(['--output', 'My Video.%(ext)s', '--proxy', '']), "--output 'My Video.%(ext)s' --proxy ''");
  });
});

describe('ytdlpEnvironment', () => {
  it("is the service's environment without proxy variables, in any case, plus the extra ones", () => {
    const set = { http_proxy: 'http://a:1', HTTPS_PROXY: 'http://b:2', All_Proxy: 'socks5://c:3', no_proxy: '127.0.0.1', NO_PROXY: 'localhost', MEDIAGO_TEST_KEPT: 'yes' };
    Object.assign(process.env, set);
    try {
      const env = ytdlpEnvironment({ PYTHONIOENCODING: 'utf-8' });
      for (const name of ['http_proxy', 'HTTPS_PROXY', 'All_Proxy', 'no_proxy', 'NO_PROXY']) assert.equal(env[name], undefined, name);
      assert.equal(env.MEDIAGO_TEST_KEPT, 'yes');
      assert.equal(env.PATH, process.env.PATH);
      assert.equal(env.PYTHONIOENCODING, 'utf-8');
    } finally {
      for (const name of Object.keys(set)) delete process.env[name];
    }
  });
});
