import {
  type Budget,
  LbMembership,
  type ObservedInstance,
  type Plan,
  type PlanInput,
  type RolloutStrategy,
} from '../../../src/rollout/index.ts';

export const T0 = 1_000_000;
export const NEW = 'spec-new';
export const OLD = 'spec-old';

export const strategy = (over: Partial<RolloutStrategy> = {}): RolloutStrategy => ({
  maxSurge: 1,
  maxUnavailable: 0,
  minHealthyTime: 5_000,
  healthyDeadline: 60_000,
  progressDeadline: 600_000,
  onFailure: 'rollback',
  canary: 0,
  ...over,
});

/** healthy = in rotation, starting = not yet healthy, unhealthy = failed its check. */
export type Counts = { healthy: number; starting: number; unhealthy: number };
export const c = (healthy: number, starting = 0, unhealthy = 0): Counts => ({ healthy, starting, unhealthy });

let serial = 0;
export function instance(specHash: string, over: Partial<ObservedInstance> = {}): ObservedInstance {
  serial++;
  return {
    instance: `i${String(serial).padStart(4, '0')}`,
    node: 'local',
    specHash,
    createdAt: T0 - 100_000 + serial,
    watchedSince: T0 - 1_000,
    running: true,
    lb: LbMembership.Absent,
    retiring: false,
    busy: false,
    ...over,
  };
}

export const ready = (spec: string, over: Partial<ObservedInstance> = {}) =>
  instance(spec, { lb: LbMembership.Ready, healthyAt: T0 - 60_000, ...over });
export const starting = (spec: string, over: Partial<ObservedInstance> = {}) => instance(spec, over);
export const unhealthy = (spec: string, over: Partial<ObservedInstance> = {}) =>
  instance(spec, { healthyAt: T0 - 30_000, failedAt: T0 - 1_000, failure: 'status 503', ...over });

export function fromCounts(spec: string, counts: Counts): ObservedInstance[] {
  return [
    ...Array.from({ length: counts.healthy }, () => ready(spec)),
    ...Array.from({ length: counts.starting }, () => starting(spec)),
    ...Array.from({ length: counts.unhealthy }, () => unhealthy(spec)),
  ];
}

export type Row = {
  name: string;
  replicas: number;
  maxSurge: Budget;
  maxUnavailable: Budget;
  old: Counts;
  next: Counts;
  want: { start: number; drain: number; phase: Plan['phase'] };
};

export function toInput(row: Row, now = T0): PlanInput {
  return {
    desired: { specHash: NEW, instances: row.replicas },
    observed: [...fromCounts(OLD, row.old), ...fromCounts(NEW, row.next)],
    strategy: strategy({ maxSurge: row.maxSurge, maxUnavailable: row.maxUnavailable }),
    progress: { paused: false, promoted: false, startedAt: now - 10_000, lastProgressAt: now - 10_000 },
    now,
  };
}

/** A plan reduced to counts, in the manner of Nomad's resultExpectation. */
export function summarize(plan: Plan) {
  return {
    start: plan.steps.filter((s) => s.kind === 'start').length,
    drain: plan.steps.filter((s) => s.kind === 'retire').length,
    phase: plan.phase,
  };
}

export const kinds = (plan: Plan) =>
  plan.steps.map((s) => (s.kind === 'start' ? 'start' : `${s.kind} ${s.instance}`));
