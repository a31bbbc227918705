import { describe, expect, it } from 'vitest';
import { pickHostPort } from '../../../src/docker/pick-host-port.ts';

describe('pickHostPort', () => {
  const range = { min: 20000, max: 20004 };
  const rows: { name: string; taken: number[]; random: number; want: number | undefined }[] = [
    { name: 'the port the random draw lands on, when free', taken: [], random: 0.5, want: 20002 },
    { name: 'the next free one after a taken draw', taken: [20002, 20003], random: 0.5, want: 20004 },
    { name: 'wraps round to the start of the range', taken: [20003, 20004], random: 0.7, want: 20000 },
    { name: 'the lowest end of the draw', taken: [], random: 0, want: 20000 },
    { name: 'the highest end of the draw', taken: [], random: 0.9999, want: 20004 },
    { name: 'the one port left', taken: [20000, 20001, 20003, 20004], random: 0.1, want: 20002 },
    {
      name: 'none when every port is taken',
      taken: [20000, 20001, 20002, 20003, 20004],
      random: 0.3,
      want: undefined,
    },
    { name: 'ports outside the range taken change nothing', taken: [19999, 20005], random: 0, want: 20000 },
  ];
  it.each(rows)('$name', ({ taken, random, want }) => {
    expect(pickHostPort(new Set(taken), range, () => random)).toBe(want);
  });

  it('never hands out a taken port, over every draw', () => {
    const taken = new Set([20001, 20003]);
    for (let i = 0; i < 100; i++) {
      const port = pickHostPort(taken, range, () => i / 100);
      expect(port).toBeDefined();
      expect(taken.has(port!)).toBe(false);
      expect(port).toBeGreaterThanOrEqual(range.min);
      expect(port).toBeLessThanOrEqual(range.max);
    }
  });
});
