import { InstancePhase, LbMembership, type ObservedInstance, PlanReason } from './plan-types.ts';

export type ClassifiedInstance = ObservedInstance & {
  phase: InstancePhase;
  /** Of the desired revision. */
  isNew: boolean;
  /** Why it failed, as a condition reason and a sentence; only for failed instances. */
  failedBecause?: { reason: PlanReason; message: string };
};

function failure(
  o: ObservedInstance,
  healthyDeadline: number,
  now: number,
): ClassifiedInstance['failedBecause'] {
  if (!o.running)
    return {
      reason: PlanReason.InstanceCrashed,
      message: `instance ${o.instance} stopped running${o.failure ? `: ${o.failure}` : ''}`,
    };
  if (o.failedAt !== undefined)
    return {
      reason: PlanReason.HealthCheckFailed,
      message: `instance ${o.instance} failed its health check${o.failure ? `: ${o.failure}` : ''}`,
    };
  if (o.healthyAt === undefined && o.lb !== LbMembership.Ready && now - o.watchedSince > healthyDeadline)
    return {
      reason: PlanReason.HealthyDeadlineExceeded,
      message: `instance ${o.instance} was not healthy within ${healthyDeadline}ms${o.failure ? ` (last probe: ${o.failure})` : ''}`,
    };
  return undefined;
}

/** Derives each instance's phase from raw observations; the order of the input is kept. */
export function classifyInstances(
  observed: readonly ObservedInstance[],
  desired: { specHash: string; replaceCreatedBefore?: number | undefined },
  healthyDeadline: number,
  now: number,
): ClassifiedInstance[] {
  return observed.map((o) => {
    const isNew =
      o.specHash === desired.specHash &&
      (desired.replaceCreatedBefore === undefined || o.createdAt >= desired.replaceCreatedBefore);
    if (o.retiring) return { ...o, isNew, phase: InstancePhase.Retiring };
    const failedBecause = failure(o, healthyDeadline, now);
    if (failedBecause) return { ...o, isNew, phase: InstancePhase.Failed, failedBecause };
    if (o.lb === LbMembership.Ready) return { ...o, isNew, phase: InstancePhase.Ready };
    if (o.healthyAt !== undefined) return { ...o, isNew, phase: InstancePhase.Staged };
    return { ...o, isNew, phase: InstancePhase.Starting };
  });
}
