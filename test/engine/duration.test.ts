import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/engine/duration.js';

describe('parseDuration', () => {
  it.each([
    ['30m', 1_800_000],
    ['90s', 90_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['45', 45_000],
    [' 2h ', 7_200_000],
  ])('reads %j as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '0', '0s', '-5m', '10 minutes', 'm', '1d'])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('refuses what a timer cannot hold (setTimeout fires at once past 2^31-1 ms), and accepts up to it', () => {
    expect(parseDuration('1000h')).toBeUndefined();
    expect(parseDuration('596h')).toBe(596 * 3_600_000);
    expect(parseDuration('597h')).toBeUndefined();
  });
});
