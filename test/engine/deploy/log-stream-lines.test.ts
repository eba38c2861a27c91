/** LogLineSplitter: `\r` redraws, `\r\n`, chunk boundaries anywhere, cut lines. */
import { expect, it } from 'vitest';
import { LogLineSplitter } from '../../../src/engine/deploy/log-lines.js';

function split(chunks: string[], max?: number): string[] {
  const lines: string[] = [];
  const s = new LogLineSplitter((l) => lines.push(l), max);
  for (const c of chunks) s.push(c);
  s.end();
  return lines;
}

const TEXT = 'T1 a\r\nT2 10%\r50%\r100%\nT3 \rdone\rfinal\r\nT4 tail';

it('gives the same lines however the stream is cut into chunks', () => {
  const expected = ['T1 a', 'T2 100%', 'T3 final', 'T4 tail'];
  expect(split([TEXT])).toEqual(expected);
  for (let i = 0; i <= TEXT.length; i++) expect(split([TEXT.slice(0, i), TEXT.slice(i)]), `cut at ${i}`).toEqual(expected);
  expect(split([...TEXT])).toEqual(expected);
});

it('keeps empty lines and the timestamp of an empty line', () => {
  expect(split(['T1 \nT2 x\n\n'])).toEqual(['T1 ', 'T2 x', '']);
});

it('cuts a long line after max characters, counting the bytes cut, and starts over at \\r', () => {
  expect(split(['T1 abcdefgh\n'], 3)).toEqual(['T1 abc … [cut 5 bytes]']);
  expect(split(['T1 abcdéf\rxy\n'], 3)).toEqual(['T1 xy']);
  expect(split(['T1 ab', 'cdé\n'], 3)).toEqual(['T1 abc … [cut 3 bytes]']);
});
