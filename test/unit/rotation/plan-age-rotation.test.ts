import { describe, expect, it } from 'vitest';
import { instanceJitter, planAgeRotation } from '../../../src/rotation/index.ts';

const T = Date.parse('2026-12-02T03:00:00Z');
const m = 60_000;
const h = 60 * m;
const at = (instance: string, createdAt: number) => ({ instance, createdAt });

type Row = {
  name: string;
  maxAge?: number;
  jitter: number;
  instances: { instance: string; createdAt: number }[];
  now: number;
  want: { due: string[]; replaceCreatedBefore?: number; nextDueAt?: number };
};

// With no jitter the due times are exact; rows with jitter use each instance's own share.
const j = (instance: string) => instanceJitter(instance, 10 * m);

// biome-ignore format: one row, two lines, as a table reads best
const rows: Row[] = [
  { name: 'nothing is due without maxAge', jitter: 0, instances: [at('a', T - 100 * h)], now: T,
    want: { due: [] } },
  { name: 'an instance older than maxAge is due, the others wait', maxAge: 24 * h, jitter: 0,
    instances: [at('a', T - 25 * h), at('b', T - h), at('c', T - 2 * h)], now: T,
    want: { due: ['a'], replaceCreatedBefore: T - 25 * h + 1, nextDueAt: T + 22 * h } },
  { name: 'exactly maxAge old is due', maxAge: 24 * h, jitter: 0, instances: [at('a', T - 24 * h)], now: T,
    want: { due: ['a'], replaceCreatedBefore: T - 24 * h + 1 } },
  { name: 'several due ones go in one rotation, oldest first', maxAge: 24 * h, jitter: 0,
    instances: [at('b', T - 26 * h), at('a', T - 30 * h), at('c', T - h)], now: T,
    want: { due: ['a', 'b'], replaceCreatedBefore: T - 26 * h + 1, nextDueAt: T + 23 * h } },
  { name: 'young instances only tell when the first will be due', maxAge: 24 * h, jitter: 0,
    instances: [at('a', T - 3 * h), at('b', T - 5 * h)], now: T, want: { due: [], nextDueAt: T + 19 * h } },
  { name: 'jitter holds an instance past maxAge until its own share passed', maxAge: h, jitter: 10 * m,
    instances: [at('web-1', T - h - j('web-1') + 1)], now: T, want: { due: [], nextDueAt: T + 1 } },
  { name: 'jitter: due once maxAge and its own share passed', maxAge: h, jitter: 10 * m,
    instances: [at('web-1', T - h - j('web-1'))], now: T, want: { due: ['web-1'], replaceCreatedBefore: T - h - j('web-1') + 1 } },
];

describe('planAgeRotation', () => {
  it.each(rows)('$name', (row) => {
    const plan = planAgeRotation({
      maxAge: row.maxAge,
      jitter: row.jitter,
      instances: row.instances,
      now: row.now,
    });
    expect({ ...plan, due: plan.due.map((i) => i.instance) }).toEqual(row.want);
  });

  it('spreads instances started together by one deployment over the jitter', () => {
    const ids = Array.from({ length: 40 }, (_, i) => `web-${i.toString(36)}x${(i * 7919).toString(16)}`);
    const instances = ids.map((id) => at(id, T));
    const dueTimes = ids.map((id) => T + h + instanceJitter(id, 30 * m));
    const dueBy = (now: number) => planAgeRotation({ maxAge: h, jitter: 30 * m, instances, now }).due.length;
    // Each quarter of the jitter holds some of them, so they leave in several rotations.
    for (let q = 1; q <= 4; q++) {
      const inQuarter = dueTimes.filter(
        (t) => t > T + h + ((q - 1) * 30 * m) / 4 && t <= T + h + (q * 30 * m) / 4,
      );
      expect(inQuarter.length, `quarter ${q}`).toBeGreaterThan(0);
    }
    expect(dueBy(T + h + 15 * m)).toBeGreaterThan(0);
    expect(dueBy(T + h + 15 * m)).toBeLessThan(ids.length);
    expect(dueBy(T + h + 30 * m)).toBe(ids.length);
  });
});

describe('instanceJitter', () => {
  it('is the same for the same instance, on any daemon', () => {
    expect(instanceJitter('web-3f9a2c', 5 * m)).toBe(instanceJitter('web-3f9a2c', 5 * m));
  });

  it('stays within [0, jitter) and is 0 without jitter', () => {
    const values = Array.from({ length: 200 }, (_, i) => instanceJitter(`i-${i}`, 1_000));
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1_000);
    expect(new Set(values).size).toBeGreaterThan(150);
    expect(instanceJitter('i-1', 0)).toBe(0);
  });
});
