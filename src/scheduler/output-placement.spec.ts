import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { placeOutput } from './output-placement.js';

describe('placeOutput', () => {
  let root: string;
  let work: string;
  let out: string;
  let case_ = 0;

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'output-placement-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));
  beforeEach(() => {
    case_++;
    work = join(root, `work-${case_}`);
    out = join(root, `out-${case_}`);
    mkdirSync(work);
    mkdirSync(out);
  });

  /** A finished file in the working directory, holding `content`. */
  const aFinishedFile = (content: string, name = 'merged.tmp') => {
    const path = join(work, name);
    writeFileSync(path, content);
    return path;
  };
  const filesIn = (dir: string) => readdirSync(dir).sort();

  it('moves the file to "<name>.<ext>" and removes the source', async () => {
    const source = aFinishedFile('video bytes');
    const placed = await placeOutput(out, 'My Video', 'mp4', source, null);
    assert.equal(placed, join(out, 'My Video.mp4'));
    assert.equal(readFileSync(placed, 'utf8'), 'video bytes');
    assert.equal(existsSync(source), false);
    assert.deepEqual(filesIn(work), []);
  });

  it('numbers the name when it is taken, never replacing another file', async () => {
    writeFileSync(join(out, 'Clip.mp4'), 'someone else');
    const first = await placeOutput(out, 'Clip', 'mp4', aFinishedFile('one'), null);
    const second = await placeOutput(out, 'Clip', 'mp4', aFinishedFile('two'), null);
    assert.equal(first, join(out, 'Clip (1).mp4'));
    assert.equal(second, join(out, 'Clip (2).mp4'));
    assert.deepEqual(filesIn(out), ['Clip (1).mp4', 'Clip (2).mp4', 'Clip.mp4']);
    assert.equal(readFileSync(join(out, 'Clip.mp4'), 'utf8'), 'someone else');
    assert.equal(readFileSync(first, 'utf8'), 'one');
    assert.equal(readFileSync(second, 'utf8'), 'two');
  });

  it('counts a directory of that name as taken', async () => {
    mkdirSync(join(out, 'Clip.mp4'));
    assert.equal(await placeOutput(out, 'Clip', 'mp4', aFinishedFile('x'), null), join(out, 'Clip (1).mp4'));
  });

  it('fills the first free number', async () => {
    writeFileSync(join(out, 'Clip.mp4'), 'a');
    writeFileSync(join(out, 'Clip (2).mp4'), 'c');
    assert.equal(await placeOutput(out, 'Clip', 'mp4', aFinishedFile('b'), null), join(out, 'Clip (1).mp4'));
  });

  it("replaces the task's own previous file on a re-download", async () => {
    const previous = join(out, 'Clip.mp4');
    writeFileSync(previous, 'old download');
    const placed = await placeOutput(out, 'Clip', 'mp4', aFinishedFile('new download'), previous);
    assert.equal(placed, previous);
    assert.equal(readFileSync(previous, 'utf8'), 'new download');
    assert.deepEqual(filesIn(out), ['Clip.mp4']);
    assert.deepEqual(filesIn(work), []);
  });

  it("replaces the task's own numbered file, not the file of another task before it", async () => {
    writeFileSync(join(out, 'Clip.mp4'), 'other task');
    const previous = join(out, 'Clip (1).mp4');
    writeFileSync(previous, 'old download');
    const placed = await placeOutput(out, 'Clip', 'mp4', aFinishedFile('new download'), previous);
    assert.equal(placed, previous);
    assert.equal(readFileSync(join(out, 'Clip.mp4'), 'utf8'), 'other task');
    assert.equal(readFileSync(previous, 'utf8'), 'new download');
  });

  it('places under its own name when the previous file is gone', async () => {
    const placed = await placeOutput(out, 'Clip', 'mp4', aFinishedFile('again'), join(out, 'Clip.mp4'));
    assert.equal(placed, join(out, 'Clip.mp4'));
    assert.equal(readFileSync(placed, 'utf8'), 'again');
  });

  it('sanitises an unsafe name', async () => {
    assert.equal(await placeOutput(out, '../../etc/passwd', 'mp4', aFinishedFile('a'), null), join(out, '_.._etc_passwd.mp4'));
    assert.equal(await placeOutput(out, 'a/b:c*d?', 'mp4', aFinishedFile('b'), null), join(out, 'a_b_c_d_.mp4'));
    assert.equal(await placeOutput(out, 'CON', 'txt', aFinishedFile('c'), null), join(out, '_CON.txt'));
    assert.equal(await placeOutput(out, '   ', 'mp4', aFinishedFile('d'), null), join(out, 'download.mp4'));
    assert.deepEqual(filesIn(out), ['_.._etc_passwd.mp4', '_CON.txt', 'a_b_c_d_.mp4', 'download.mp4']);
  });

  it('sanitises the extension: no dots, no separators, lower case, at most 10 characters, "bin" when empty', async () => {
    const cases: Array<[string, string]> = [
      ['.MP4', 'mp4'],
      ['..mkv', 'mkv'],
      ['../../sh', 'sh'],
      ['m/p\\4', 'mp4'],
      ['ts ', 'ts'],
      ['abcdefghijklmnop', 'abcdefghij'],
      ['', 'bin'],
      ['...', 'bin'],
      ['ü', 'bin'],
    ];
    for (const [index, [extension, expected]] of cases.entries()) {
      const placed = await placeOutput(out, `file${index}`, extension, aFinishedFile(String(index)), null);
      assert.equal(placed, join(out, `file${index}.${expected}`), `extension ${JSON.stringify(extension)}`);
    }
    assert.equal(filesIn(out).length, cases.length);
  });

  it('fails, keeping the source, when the target directory does not exist', async () => {
    const source = aFinishedFile('keep me');
    await assert.rejects(placeOutput(join(out, 'missing'), 'Clip', 'mp4', source, null), { code: 'ENOENT' });
    assert.equal(readFileSync(source, 'utf8'), 'keep me');
  });
});
