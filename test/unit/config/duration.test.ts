import { describe, expect, it } from 'vitest';
import { parseByteSize } from '../../../src/config/byte-size.ts';
import { parseDuration } from '../../../src/config/duration.ts';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['5s', 5_000],
    ['1.5s', 1_500],
    ['10m', 600_000],
    ['1h30m', 5_400_000],
    ['1d', 86_400_000],
    ['0s', 0],
  ])('reads %s as %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '30', 's', '5 s', '5sec', '1h 30m', '-5s', 'five seconds'])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('parseByteSize', () => {
  it.each([
    ['128m', 128 * 1024 ** 2],
    ['1g', 1024 ** 3],
    ['512k', 512 * 1024],
    ['64MB', 64 * 1024 ** 2],
    ['4096', 4096],
  ])('reads %s', (text, bytes) => {
    expect(parseByteSize(text)).toBe(bytes);
  });

  it.each(['lots', '1t', '', 'm'])('refuses %j', (text) => {
    expect(parseByteSize(text)).toBeUndefined();
  });
});
