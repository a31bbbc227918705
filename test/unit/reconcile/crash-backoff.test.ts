import { describe, expect, it } from 'vitest';
import {
  BACKOFF_CAP_MS,
  BACKOFF_RESET_MS,
  backoffDelayMs,
  backoffHolds,
  nextBackoff,
} from '../../../src/reconcile/index.ts';

describe('crash-loop backoff', () => {
  it.each([
    { streak: 1, ms: 1_000 },
    { streak: 2, ms: 1_150 },
    { streak: 3, ms: 1_322.5 },
    { streak: 11, ms: 1_000 * 1.15 ** 10 },
    { streak: 41, ms: 1_000 * 1.15 ** 40 },
    { streak: 42, ms: BACKOFF_CAP_MS },
    { streak: 500, ms: BACKOFF_CAP_MS },
  ])('after heal $streak of a streak it waits $ms ms', ({ streak, ms }) => {
    expect(backoffDelayMs(streak)).toBeCloseTo(ms, 6);
  });

  it('grows the streak while the revision stays and heals come within the reset window', () => {
    const first = nextBackoff(undefined, 'spec-a', 0);
    expect(first).toEqual({ streak: 1, specHash: 'spec-a', lastHealAt: 0, nextAttemptAt: 1_000 });
    const second = nextBackoff(first, 'spec-a', 5_000);
    expect(second.streak).toBe(2);
    expect(second.nextAttemptAt).toBe(6_150);
  });

  it('starts afresh for a new version or config, and after a calm period', () => {
    const b = { streak: 9, specHash: 'spec-a', lastHealAt: 0, nextAttemptAt: 4_000 };
    expect(nextBackoff(b, 'spec-b', 1_000).streak).toBe(1);
    expect(nextBackoff(b, 'spec-a', BACKOFF_RESET_MS).streak).toBe(1);
  });

  it.each([
    { what: 'no backoff yet', b: undefined, spec: 'spec-a', now: 0, holds: undefined },
    {
      what: 'within the wait',
      b: { streak: 2, specHash: 'spec-a', lastHealAt: 0, nextAttemptAt: 1_150 },
      spec: 'spec-a',
      now: 1_000,
      holds: 1_150,
    },
    {
      what: 'the wait passed',
      b: { streak: 2, specHash: 'spec-a', lastHealAt: 0, nextAttemptAt: 1_150 },
      spec: 'spec-a',
      now: 1_150,
      holds: undefined,
    },
    {
      what: 'another revision',
      b: { streak: 2, specHash: 'spec-a', lastHealAt: 0, nextAttemptAt: 1_150 },
      spec: 'spec-b',
      now: 100,
      holds: undefined,
    },
  ])('holds a heal: $what', ({ b, spec, now, holds }) => {
    expect(backoffHolds(b, spec, now)).toBe(holds);
  });
});
