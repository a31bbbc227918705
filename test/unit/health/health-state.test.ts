import { describe, expect, it } from 'vitest';
import {
  type HealthPolicy,
  type HealthState,
  initialHealthState,
  nextHealthState,
} from '../../../src/health/index.ts';

const policy: HealthPolicy = { healthyThreshold: 2, unhealthyThreshold: 3, gracePeriod: 5_000 };
const T0 = 1_000_000;

type Row = {
  name: string;
  /** Results as '+' (pass) or '-' (fail), one per second after start. */
  results: string;
  /** Seconds after start of the first result. */
  from?: number;
  want: Pick<HealthState, 'phase' | 'consecutiveOk' | 'consecutiveFail'>;
};

const rows: Row[] = [
  {
    name: 'stays starting after one pass',
    results: '+',
    from: 6,
    want: { phase: 'starting', consecutiveOk: 1, consecutiveFail: 0 },
  },
  {
    name: 'turns healthy after healthyThreshold passes in a row',
    results: '++',
    from: 6,
    want: { phase: 'healthy', consecutiveOk: 2, consecutiveFail: 0 },
  },
  {
    name: 'a failure between passes resets the count',
    results: '+-+',
    from: 6,
    want: { phase: 'starting', consecutiveOk: 1, consecutiveFail: 0 },
  },
  {
    name: 'failures inside the grace period do not count',
    results: '----',
    from: 0,
    want: { phase: 'starting', consecutiveOk: 0, consecutiveFail: 0 },
  },
  {
    name: 'failures count once the grace period is over',
    results: '----',
    from: 3,
    want: { phase: 'starting', consecutiveOk: 0, consecutiveFail: 2 },
  },
  {
    name: 'turns unhealthy after unhealthyThreshold failures past grace',
    results: '---',
    from: 6,
    want: { phase: 'unhealthy', consecutiveOk: 0, consecutiveFail: 3 },
  },
  {
    name: 'a healthy instance tolerates fewer failures than the threshold',
    results: '++--',
    from: 6,
    want: { phase: 'healthy', consecutiveOk: 0, consecutiveFail: 2 },
  },
  {
    name: 'a healthy instance turns unhealthy after the threshold',
    results: '++---',
    from: 6,
    want: { phase: 'unhealthy', consecutiveOk: 0, consecutiveFail: 3 },
  },
  {
    name: 'an unhealthy instance recovers after healthyThreshold passes',
    results: '---++',
    from: 6,
    want: { phase: 'healthy', consecutiveOk: 2, consecutiveFail: 0 },
  },
  {
    name: 'a slow starter passes within grace and turns healthy',
    results: '--++',
    from: 1,
    want: { phase: 'healthy', consecutiveOk: 2, consecutiveFail: 0 },
  },
];

function fold(results: string, fromSec: number): HealthState {
  let state = initialHealthState(T0);
  [...results].forEach((r, i) => {
    const ok = r === '+';
    state = nextHealthState(
      state,
      { ok, reason: ok ? 'status 200' : 'status 503' },
      T0 + (fromSec + i) * 1000,
      policy,
    );
  });
  return state;
}

describe('nextHealthState', () => {
  it.each(rows)('$name', (row) => {
    expect(fold(row.results, row.from ?? 0)).toMatchObject(row.want);
  });

  it('records when the phase changed and the last reason', () => {
    const state = fold('++-', 6);
    expect(state.changedAt).toBe(T0 + 7_000);
    expect(state.lastReason).toBe('status 503');
    expect(state.checks).toBe(3);
  });
});
