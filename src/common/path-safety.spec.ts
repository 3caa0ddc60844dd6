import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { folderProblem, normalizeFolder, resolveInside, sanitizeFileName } from './path-safety.js';

const utf8Bytes = (text: string) => Buffer.byteLength(text);
/** A folder path of `depth` directories. */
const folderOfDepth = (depth: number, separator = '/') => Array.from({ length: depth }, (_, index) => `d${index}`).join(separator);

describe('sanitizeFileName', () => {
  it('keeps an ordinary name as it is', () => {
    assert.equal(sanitizeFileName('My Holiday Video 2024'), 'My Holiday Video 2024');
    assert.equal(sanitizeFileName('日本語のタイトル — été'), '日本語のタイトル — été');
  });

  it('prefixes reserved Windows device names, with or without extensions, in any case', () => {
    const cases: Record<string, string> = {
      CON: '_CON',
      con: '_con',
      Prn: '_Prn',
      AUX: '_AUX',
      NUL: '_NUL',
      COM1: '_COM1',
      com9: '_com9',
      'COM¹': '_COM¹',
      LPT1: '_LPT1',
      'lpt³': '_lpt³',
      'con.txt': '_con.txt',
      'NUL.tar.gz': '_NUL.tar.gz',
      'aux.': '_aux',
      ' prn ': '_prn',
    };
    for (const [input, output] of Object.entries(cases)) assert.equal(sanitizeFileName(input), output, `input ${JSON.stringify(input)}`);
  });

  it('leaves names that only start like a device name alone', () => {
    for (const name of ['CONSOLE', 'console.log', 'auxiliary', 'COM', 'LPT', 'nullable.txt', 'com10']) assert.equal(sanitizeFileName(name), name);
  });

  it('replaces characters some file system refuses with "_"', () => {
    assert.equal(sanitizeFileName('a<b>c:d"e/f\\g|h?i*j'), 'a_b_c_d_e_f_g_h_i_j');
    assert.equal(sanitizeFileName('../../etc/passwd'), '_.._etc_passwd');
  });

  it('removes bidi controls and zero-width characters, which disguise a name', () => {
    assert.equal(sanitizeFileName('invoice\u202Egpj.exe'), 'invoicegpj.exe');
    assert.equal(sanitizeFileName('\u2066a\u2067b\u2068c\u2069\u202A\u202B\u202C\u202D\u200E\u200F'), 'abc');
    assert.equal(sanitizeFileName('zero\u200Bwidth\u200C\u200Djoin\uFEFF\u2060'), 'zerowidthjoin');
    assert.equal(sanitizeFileName('\u202E\u200B'), 'download', 'nothing visible left: the fallback');
    assert.equal(sanitizeFileName('עברית ו-English'), 'עברית ו-English', 'right-to-left text itself stays');
  });

  it('replaces control characters, DEL and NUL', () => {
    assert.equal(sanitizeFileName('a\u0000b\u0001c\u001fd\u007fe'), 'a_b_c_d_e');
    assert.equal(sanitizeFileName('line\nbreak\ttab'), 'line_break_tab');
  });

  it('collapses runs of white space into one space', () => {
    assert.equal(sanitizeFileName('a   b\u00a0\u3000c'), 'a b c');
  });

  it('removes leading and trailing dots and spaces, so that no name is hidden or ends oddly', () => {
    assert.equal(sanitizeFileName('.env'), 'env');
    assert.equal(sanitizeFileName('...hidden'), 'hidden');
    assert.equal(sanitizeFileName(' . . name . . '), 'name');
    assert.equal(sanitizeFileName('trailing...'), 'trailing');
    assert.equal(sanitizeFileName('keeps.inner.dots'), 'keeps.inner.dots');
  });

  it('uses the fallback when nothing is left', () => {
    for (const name of ['', '   ', '.', '..', '. . .', '\u3000']) assert.equal(sanitizeFileName(name), 'download', `input ${JSON.stringify(name)}`);
    assert.equal(sanitizeFileName(' . ', 'untitled'), 'untitled');
    // a control character is replaced, not dropped, so something is left
    assert.equal(sanitizeFileName('\t'), '_');
  });

  it('normalises to NFC', () => {
    assert.equal(sanitizeFileName('e\u0301te\u0301'), 'été');
  });

  describe('long names', () => {
    it('keeps a name of exactly 180 bytes', () => {
      const name = 'a'.repeat(180);
      assert.equal(sanitizeFileName(name), name);
    });

    it('truncates ASCII to 180 bytes', () => {
      assert.equal(sanitizeFileName('b'.repeat(400)), 'b'.repeat(180));
    });

    for (const [label, unit] of [
      ['2-byte', 'é'],
      ['3-byte', '€'],
      ['4-byte (astral, surrogate pairs)', '😀'],
    ] as const) {
      it(`truncates ${label} characters on a character boundary within 180 bytes`, () => {
        for (const prefix of ['', 'a', 'ab', 'abc']) {
          const name = prefix + unit.repeat(200);
          const result = sanitizeFileName(name);
          assert.ok(utf8Bytes(result) <= 180, `${utf8Bytes(result)} bytes`);
          assert.ok(utf8Bytes(result) > 180 - utf8Bytes(unit), 'uses the room it has');
          assert.ok(name.startsWith(result), 'a prefix of the name');
          // a lone surrogate or a cut character would not survive the UTF-8 round trip
          assert.equal(Buffer.from(result, 'utf8').toString('utf8'), result, 'no broken character');
        }
      });
    }

    it('drops a space or dot left at the end by the cut', () => {
      assert.equal(sanitizeFileName(`${'a'.repeat(179)} tail`), 'a'.repeat(179));
      assert.equal(sanitizeFileName(`${'a'.repeat(178)}..tail`), 'a'.repeat(178));
    });
  });
});

describe('folderProblem', () => {
  it('accepts relative sub-directories', () => {
    for (const folder of ['', 'videos', 'videos/2024', 'a\\b', './a', 'a/./b', 'a//b/', '...', '..hidden', 'a..b', 'x/..y']) {
      assert.equal(folderProblem(folder), null, `folder ${JSON.stringify(folder)}`);
    }
  });

  it('refuses absolute POSIX and Windows paths', () => {
    for (const folder of ['/etc', '/', '\\share', '\\\\server\\share', '//server/share', 'C:\\Windows', 'c:/temp', 'D:relative']) {
      assert.equal(folderProblem(folder), 'must be a relative sub-directory, not an absolute path', `folder ${JSON.stringify(folder)}`);
    }
  });

  it('refuses ".." anywhere, with either separator and padded with spaces', () => {
    for (const folder of ['..', '../x', 'a/..', 'a/../b', 'a\\..\\b', 'a/ .. /b', 'a/b/c/..', 'a\\b/..']) {
      assert.equal(folderProblem(folder), 'must not contain ".." segments', `folder ${JSON.stringify(folder)}`);
    }
  });

  it('refuses a NUL byte', () => {
    assert.equal(folderProblem('a\u0000b'), 'must not contain a NUL byte');
  });

  it('refuses more than 1024 characters', () => {
    assert.equal(folderProblem('a'.repeat(1024)), null);
    assert.equal(folderProblem('a'.repeat(1025)), 'must be at most 1024 characters');
  });

  it('allows 16 directories and refuses 17, not counting "." or empty segments', () => {
    assert.equal(folderProblem(folderOfDepth(16)), null);
    assert.equal(folderProblem(folderOfDepth(16, '\\')), null);
    assert.equal(folderProblem(`./${folderOfDepth(16, '/./')}//`), null);
    assert.equal(folderProblem(folderOfDepth(17)), 'must be at most 16 directories deep');
    assert.equal(folderProblem(folderOfDepth(17, '\\')), 'must be at most 16 directories deep');
  });
});

describe('normalizeFolder', () => {
  it('gives "" for no folder', () => {
    for (const folder of [null, undefined, '', '.', './', '././']) assert.equal(normalizeFolder(folder), '', `folder ${JSON.stringify(folder)}`);
  });

  it('joins trimmed segments with "/", dropping "." and empty ones', () => {
    assert.equal(normalizeFolder('a\\b/c'), 'a/b/c');
    assert.equal(normalizeFolder(' a / b '), 'a/b');
    assert.equal(normalizeFolder('./a/./b//'), 'a/b');
  });

  it('makes every segment safe', () => {
    assert.equal(normalizeFolder('con/na*me/.hidden'), '_con/na_me/hidden');
    assert.equal(normalizeFolder('a/.../b'), 'a/_/b');
  });

  it('throws the problem for a folder that is refused', () => {
    assert.throws(() => normalizeFolder('../x'), { message: 'folder must not contain ".." segments' });
    assert.throws(() => normalizeFolder('/abs'), { message: 'folder must be a relative sub-directory, not an absolute path' });
    assert.throws(() => normalizeFolder('a\u0000'), { message: 'folder must not contain a NUL byte' });
  });
});

describe('resolveInside', () => {
  let root: string;
  let base: string;
  let outside: string;

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'path-safety-'));
    base = join(root, 'downloads');
    outside = join(root, 'elsewhere');
    mkdirSync(join(base, 'inner'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(outside, 'secret.txt'), 'secret');
    symlinkSync(outside, join(base, 'escape'));
    symlinkSync(join(base, 'inner'), join(base, 'alias'));
    symlinkSync(join(outside, 'not-yet.txt'), join(base, 'dangling'));
  });

  after(() => rmSync(root, { recursive: true, force: true }));

  it('joins the parts under the base, existing or not', async () => {
    assert.equal(await resolveInside(base, 'inner', 'clip.mp4'), join(base, 'inner', 'clip.mp4'));
    assert.equal(await resolveInside(base, 'new', 'deeper', 'clip.mp4'), join(base, 'new', 'deeper', 'clip.mp4'));
    assert.equal(await resolveInside(base, '.'), base);
    assert.equal(await resolveInside(base), base);
    assert.equal(await resolveInside(base, 'inner/../clip.mp4'), join(base, 'clip.mp4'));
  });

  it('accepts a name that merely starts with two dots', async () => {
    // "..clip.mp4" is a file inside the base, not a step out of it
    assert.equal(await resolveInside(base, '..clip.mp4'), join(base, '..clip.mp4'));
  });

  it('refuses ".." escapes and absolute parts', async () => {
    for (const parts of [['..'], ['..', 'elsewhere'], ['inner', '..', '..', 'x'], ['/etc/passwd'], [outside]]) {
      await assert.rejects(resolveInside(base, ...parts), { message: 'the path leaves the download directory' }, `parts ${JSON.stringify(parts)}`);
    }
  });

  it('refuses an escape through a symbolic link', async () => {
    await assert.rejects(resolveInside(base, 'escape'), { message: 'the path leaves the download directory through a symbolic link' });
    await assert.rejects(resolveInside(base, 'escape', 'secret.txt'), { message: /through a symbolic link/ });
    await assert.rejects(resolveInside(base, 'escape', 'new', 'file.mp4'), { message: /through a symbolic link/ });
  });

  it('refuses a dangling symbolic link that points outside (writing to it would create the file there)', async () => {
    await assert.rejects(resolveInside(base, 'dangling'), { message: /through a symbolic link/ });
  });

  it('accepts a symbolic link that stays inside', async () => {
    assert.equal(await resolveInside(base, 'alias', 'clip.mp4'), join(base, 'alias', 'clip.mp4'));
  });

  it('works when the base itself is reached through a symbolic link', async () => {
    const linkedBase = join(root, 'linked-downloads');
    symlinkSync(base, linkedBase);
    assert.equal(await resolveInside(linkedBase, 'inner', 'clip.mp4'), join(linkedBase, 'inner', 'clip.mp4'));
    await assert.rejects(resolveInside(linkedBase, 'escape'), { message: /through a symbolic link/ });
  });
});
