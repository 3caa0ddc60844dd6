import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeaderLinesError, formatHeaderLines, forwardableHeaders, isHopByHopHeader, parseHeaderLines } from './header-lines.js';

const pairs = (...entries: Array<[string, string]>) => entries;
const refused = (input: unknown, message: RegExp) => assert.throws(() => parseHeaderLines(input), (error: unknown) => error instanceof HeaderLinesError && message.test(error.message));

describe('parseHeaderLines', () => {
  const expected = pairs(['User-Agent', 'Mozilla/5.0'], ['Referer', 'https://example.com/a?b=c']);

  describe('accepted forms', () => {
    it('reads "Name: value" lines, with LF or CRLF line ends', () => {
      assert.deepEqual(parseHeaderLines('User-Agent: Mozilla/5.0\nReferer: https://example.com/a?b=c'), expected);
      assert.deepEqual(parseHeaderLines('User-Agent: Mozilla/5.0\r\nReferer: https://example.com/a?b=c\r\n'), expected);
    });

    it('reads an array of lines', () => {
      assert.deepEqual(parseHeaderLines(['User-Agent: Mozilla/5.0', 'Referer: https://example.com/a?b=c']), expected);
    });

    it('reads an object of name → value', () => {
      assert.deepEqual(parseHeaderLines({ 'User-Agent': 'Mozilla/5.0', Referer: 'https://example.com/a?b=c' }), expected);
    });

    it('reads a JSON string holding an array of lines', () => {
      assert.deepEqual(parseHeaderLines(JSON.stringify(['User-Agent: Mozilla/5.0', 'Referer: https://example.com/a?b=c'])), expected);
    });

    it('reads a JSON string holding an object, even with white space around it', () => {
      assert.deepEqual(parseHeaderLines(`  ${JSON.stringify({ 'User-Agent': 'Mozilla/5.0', Referer: 'https://example.com/a?b=c' })}\n`), expected);
    });

    it('gives nothing for null, undefined, "", blank lines, [] and {}', () => {
      for (const input of [null, undefined, '', '   ', '\n\r\n  \n', [], {}, '[]', '{}', ['', '  ']]) {
        assert.deepEqual(parseHeaderLines(input), [], `input ${JSON.stringify(input)}`);
      }
    });

    it('skips empty lines between headers', () => {
      assert.deepEqual(parseHeaderLines('\nA: 1\n\n   \nB: 2\n'), pairs(['A', '1'], ['B', '2']));
      assert.deepEqual(parseHeaderLines(['A: 1', '', 'B: 2']), pairs(['A', '1'], ['B', '2']));
    });

    it('trims names and values and keeps every colon after the first in the value', () => {
      assert.deepEqual(parseHeaderLines('  Origin :   https://example.com:8443   '), pairs(['Origin', 'https://example.com:8443']));
      assert.deepEqual(parseHeaderLines('X-Empty:'), pairs(['X-Empty', '']));
    });

    it('takes numbers as values in an object and turns them into text', () => {
      assert.deepEqual(parseHeaderLines({ 'X-Retry': 3, 'X-Ratio': 1.5 }), pairs(['X-Retry', '3'], ['X-Ratio', '1.5']));
      assert.deepEqual(parseHeaderLines('{"X-Retry": 3}'), pairs(['X-Retry', '3']));
    });

    it('accepts every token character in a name', () => {
      const name = "!#$%&'*+.^_`|~09AZaz-";
      assert.deepEqual(parseHeaderLines(`${name}: x`), pairs([name, 'x']));
    });

    it('falls back to lines when a string only looks like JSON', () => {
      refused('[not json', /line 1 \("\[not json"\) is not of the form "Name: value"/);
      refused('{Broken: yes', /line 1 has an invalid header name "\{Broken"/);
    });
  });

  describe('refusals name the line and the problem', () => {
    it('refuses a line without a colon, or one starting with a colon', () => {
      refused('A: 1\nno colon here', /line 2 \("no colon here"\) is not of the form "Name: value"/);
      refused(': value', /line 1 .* is not of the form "Name: value"/);
    });

    it('counts skipped empty lines when naming the bad line', () => {
      refused('A: 1\n\n\nbroken', /^line 4 /);
    });

    it('refuses a bad header name', () => {
      refused('Bad Name: x', /line 1 has an invalid header name "Bad Name"/);
      refused('Bad(Name): x', /invalid header name "Bad\(Name\)"/);
      refused('Ünicode: x', /invalid header name "Ünicode"/);
      refused({ '': 'x' }, /invalid header name ""/);
      refused({ 'With Space': 'x' }, /With Space has an invalid header name "With Space"/);
    });

    it('refuses a carriage return inside a line value', () => {
      refused('A: one\rtwo', /line 1 contains a carriage return/);
    });

    it('refuses CR, LF or NUL inside an object value', () => {
      refused({ A: 'one\r\nInjected: yes' }, /A: the value of "A" contains a line break or NUL/);
      refused({ A: 'one\ntwo' }, /contains a line break or NUL/);
      refused({ A: 'nul\u0000byte' }, /contains a line break or NUL/);
      refused(JSON.stringify({ A: 'one\r\nInjected: yes' }), /the value of "A" contains a line break or NUL/);
    });

    it('refuses a NUL inside a line value', () => {
      refused('A: nul\u0000byte', /line 1: the value of "A" contains a line break or NUL/);
    });

    it('refuses an array item with a line break, or that is not a string', () => {
      refused(['A: 1', 'B: 2\r\nC: 3'], /item 2 contains a line break/);
      refused(['A: 1', 'B: 2\nC: 3'], /item 2 contains a line break/);
      refused(['A: 1', 42], /item 2 must be a "Name: value" string/);
      refused('[{"A": "1"}]', /item 1 must be a "Name: value" string/);
      refused(['A: 1', 'nope'], /line 2 .* is not of the form/);
    });

    it('refuses control characters other than TAB, naming the header and the character', () => {
      refused('X-Vt: a\u000bb', /line 1: the value of "X-Vt" contains a control character \(U\+000B\)/);
      refused('X-Ff: a\u000cb', /the value of "X-Ff" contains a control character \(U\+000C\)/);
      refused('X-Del: a\u007fb', /the value of "X-Del" contains a control character \(U\+007F\)/);
      refused({ 'X-Esc': 'a\u001bb' }, /the value of "X-Esc" contains a control character \(U\+001B\)/);
      assert.deepEqual(parseHeaderLines('X-Tab: a\tb'), pairs(['X-Tab', 'a\tb']));
    });

    it('refuses code points above U+00FF and keeps Latin-1', () => {
      refused('Referer: https://example.com/café€', /the value of "Referer" contains a character HTTP headers cannot carry .*\(U\+20AC\)/);
      refused({ 'X-Emoji': '😀' }, /\(U\+1F600\)/);
      assert.deepEqual(parseHeaderLines('X-Latin: café ÿ'), pairs(['X-Latin', 'café ÿ']));
    });

    it('refuses object values that are neither text nor numbers', () => {
      for (const value of [null, true, ['x'], { nested: 'x' }]) {
        refused({ A: value }, /the value of "A" must be a string/);
      }
    });

    it('refuses inputs of another type', () => {
      for (const input of [42, true, 10n]) refused(input, /must be a string of "Name: value" lines, an array of such lines, or an object/);
    });

    it('shortens an overlong bad line in the message', () => {
      const long = 'x'.repeat(500);
      assert.throws(() => parseHeaderLines(long), (error: Error) => error.message.includes(`"${'x'.repeat(40)}"`) && !error.message.includes('x'.repeat(41)));
    });
  });
});

describe('formatHeaderLines', () => {
  it('writes one "Name: value" per line', () => {
    assert.equal(formatHeaderLines(pairs(['A', '1'], ['B', 'two words'])), 'A: 1\nB: two words');
    assert.equal(formatHeaderLines([]), '');
  });

  it('round-trips with parseHeaderLines for every accepted form', () => {
    const inputs: unknown[] = [
      'User-Agent: Mozilla/5.0\r\nReferer: https://example.com/',
      ['Cookie: a=1; b=2', 'X-Token: abc:def'],
      { Authorization: 'Bearer x', 'X-Count': 7 },
      '{"Accept":"*/*"}',
      '["Accept: */*"]',
    ];
    for (const input of inputs) {
      const parsed = parseHeaderLines(input);
      const stored = formatHeaderLines(parsed);
      assert.deepEqual(parseHeaderLines(stored), parsed, `input ${JSON.stringify(input)}`);
      assert.equal(formatHeaderLines(parseHeaderLines(stored)), stored);
    }
  });
});

describe('forwardableHeaders', () => {
  it('drops hop-by-hop and framing headers, whatever their case, and names them', () => {
    const input = pairs(
      ['Host', 'evil.example'],
      ['content-length', '200'],
      ['Transfer-Encoding', 'chunked'],
      ['Connection', 'close'],
      ['Keep-Alive', 'timeout=5'],
      ['Upgrade', 'h2c'],
      ['TE', 'trailers'],
      ['Trailer', 'X'],
      ['Expect', '100-continue'],
      ['Proxy-Authorization', 'Basic x'],
      ['Proxy-Connection', 'keep-alive'],
      ['Referer', 'https://example.com/'],
      ['Cookie', 'a=1'],
    );
    const { forwarded, dropped } = forwardableHeaders(input);
    assert.deepEqual(forwarded, pairs(['Referer', 'https://example.com/'], ['Cookie', 'a=1']));
    assert.deepEqual(dropped, ['Host', 'content-length', 'Transfer-Encoding', 'Connection', 'Keep-Alive', 'Upgrade', 'TE', 'Trailer', 'Expect', 'Proxy-Authorization', 'Proxy-Connection']);
  });

  it('keeps end-to-end headers that merely look alike', () => {
    for (const name of ['Content-Type', 'Hosting', 'X-Host', 'Authorization', 'Range', 'Accept-Encoding', 'Tes']) assert.equal(isHopByHopHeader(name), false, name);
  });
});
