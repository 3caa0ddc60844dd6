import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../config/app-config.js';
import { ToolsService, ytdlpPredatesCookieFix } from './tools.service.js';

describe('ytdlpPredatesCookieFix', () => {
  it('flags versions before 2023.07.06 (CVE-2023-35934)', () => {
    for (const version of ['2023.03.04', '2023.07.05', '2022.11.11', '2021.12.27']) assert.equal(ytdlpPredatesCookieFix(version), true, version);
  });

  it('passes the fixed release and later ones, nightly suffixes included', () => {
    for (const version of ['2023.07.06', '2023.7.6', '2023.10.13', '2024.01.01.232101', '2025.06.30']) assert.equal(ytdlpPredatesCookieFix(version), false, version);
  });

  it('cannot tell an unreadable version', () => {
    assert.equal(ytdlpPredatesCookieFix('unknown'), null);
  });
});

describe('ToolsService.status for yt-dlp', () => {
  /** A stand-in yt-dlp executable that prints the given version, as the real one does for --version. */
  async function statusFor(version: string, before = '') {
    const dir = await mkdtemp(join(tmpdir(), 'ytdlp-version-'));
    const path = join(dir, 'yt-dlp');
    await writeFile(path, `#!/bin/sh\n${before}\necho ${version}\n`);
    await chmod(path, 0o755);
    try {
      return (await new ToolsService(loadConfig({ YTDLP_PATH: path }, dir)).status()).ytdlp;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('marks an old yt-dlp outdated, with a warning naming the CVE and the fixed version', async () => {
    const status = await statusFor('2023.03.04');
    assert.equal(status.found, true);
    assert.equal(status.version, '2023.03.04');
    assert.equal(status.outdated, true);
    assert.match(status.warning!, /CVE-2023-35934/);
    assert.match(status.warning!, /older than 2023\.07\.06/);
  });

  it('adds nothing for a current yt-dlp', async () => {
    assert.deepEqual(await statusFor('2024.12.13'), { found: true, version: '2024.12.13' });
  });

  it('reads the version without blocking the event loop: a slow yt-dlp delays only the answer', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    try {
      const status = await statusFor('2024.12.13', 'sleep 1');
      assert.equal(status.version, '2024.12.13');
      // a synchronous read would have held every timer for the whole second
      assert.ok(ticks >= 20, `the event loop ran ${ticks} timer ticks while yt-dlp answered`);
    } finally {
      clearInterval(timer);
    }
  });
});
