import type { Budget } from './plan-types.ts';

/** How far a rollout may go above and below the desired instances, in whole instances. */
export type ResolvedBudget = { surge: number; unavailable: number };

function scaled(value: Budget, instances: number, round: (n: number) => number): number {
  if (typeof value === 'number') return value;
  return round((Number(value.slice(0, -1)) * instances) / 100);
}

/**
 * Kubernetes' arithmetic: surge rounds up, unavailable rounds down, and when both come out as
 * zero one instance may be unavailable, or the rollout could never move.
 */
export function resolveBudget(maxSurge: Budget, maxUnavailable: Budget, instances: number): ResolvedBudget {
  const surge = scaled(maxSurge, instances, Math.ceil);
  const unavailable = Math.min(scaled(maxUnavailable, instances, Math.floor), instances);
  if (surge === 0 && unavailable === 0) return { surge: 0, unavailable: 1 };
  return { surge, unavailable };
}
