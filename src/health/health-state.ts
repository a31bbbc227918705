import type { HealthTiming, ProbeResult } from './health-check.ts';

export const HealthPhase = {
  /** Not yet passed `healthyThreshold` times in a row, and not failed past the grace period. */
  Starting: 'starting',
  Healthy: 'healthy',
  Unhealthy: 'unhealthy',
} as const;
export type HealthPhase = (typeof HealthPhase)[keyof typeof HealthPhase];

export type HealthState = {
  phase: HealthPhase;
  /** When the container started, ms; the grace period counts from here. */
  startedAt: number;
  consecutiveOk: number;
  consecutiveFail: number;
  checks: number;
  lastReason?: string;
  /** When `phase` last changed, ms. */
  changedAt: number;
};

export type HealthPolicy = Pick<HealthTiming, 'healthyThreshold' | 'unhealthyThreshold' | 'gracePeriod'>;

export function initialHealthState(startedAt: number): HealthState {
  return {
    phase: HealthPhase.Starting,
    startedAt,
    consecutiveOk: 0,
    consecutiveFail: 0,
    checks: 0,
    changedAt: startedAt,
  };
}

/**
 * Folds one probe result into the state: `healthyThreshold` passes in a row make it healthy,
 * `unhealthyThreshold` failures in a row make it unhealthy, and failures inside the grace
 * period after start do not count (a slow starter is not a sick one). Pure: `now` is an input.
 */
export function nextHealthState(
  state: HealthState,
  result: ProbeResult,
  now: number,
  policy: HealthPolicy,
): HealthState {
  const checks = state.checks + 1;
  if (result.ok) {
    const consecutiveOk = state.consecutiveOk + 1;
    const phase = consecutiveOk >= policy.healthyThreshold ? HealthPhase.Healthy : state.phase;
    return withPhase(state, phase, now, {
      consecutiveOk,
      consecutiveFail: 0,
      checks,
      lastReason: result.reason,
    });
  }
  if (now - state.startedAt < policy.gracePeriod) {
    return { ...state, consecutiveOk: 0, checks, lastReason: result.reason };
  }
  const consecutiveFail = state.consecutiveFail + 1;
  const phase = consecutiveFail >= policy.unhealthyThreshold ? HealthPhase.Unhealthy : state.phase;
  return withPhase(state, phase, now, {
    consecutiveOk: 0,
    consecutiveFail,
    checks,
    lastReason: result.reason,
  });
}

function withPhase(
  state: HealthState,
  phase: HealthPhase,
  now: number,
  counters: Pick<HealthState, 'consecutiveOk' | 'consecutiveFail' | 'checks' | 'lastReason'>,
): HealthState {
  return { ...state, ...counters, phase, changedAt: phase === state.phase ? state.changedAt : now };
}
