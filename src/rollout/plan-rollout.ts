import { type ClassifiedInstance, classifyInstances } from './classify-instances.ts';
import {
  InstancePhase,
  type Plan,
  type PlanCounts,
  type PlanInput,
  PlanPhase,
  PlanReason,
  RetireReason,
  type Step,
} from './plan-types.ts';
import { resolveBudget } from './resolve-budget.ts';

const oldestFirst = (a: ClassifiedInstance, b: ClassifiedInstance) =>
  a.createdAt - b.createdAt || a.instance.localeCompare(b.instance);

const earliest = (times: (number | undefined)[]): number | undefined => {
  const known = times.filter((t): t is number => t !== undefined);
  return known.length ? Math.min(...known) : undefined;
};

function countInstances(all: ClassifiedInstance[], desired: number): PlanCounts {
  const is = (i: ClassifiedInstance, ...phases: InstancePhase[]) => phases.includes(i.phase);
  const active = (i: ClassifiedInstance) => !is(i, InstancePhase.Failed, InstancePhase.Retiring);
  return {
    desired,
    total: all.length,
    newReady: all.filter((i) => i.isNew && is(i, InstancePhase.Ready)).length,
    newStarting: all.filter((i) => i.isNew && is(i, InstancePhase.Starting, InstancePhase.Staged)).length,
    newFailed: all.filter((i) => i.isNew && is(i, InstancePhase.Failed)).length,
    oldActive: all.filter((i) => !i.isNew && active(i)).length,
    retiring: all.filter((i) => is(i, InstancePhase.Retiring)).length,
    available: all.filter((i) => is(i, InstancePhase.Ready)).length,
  };
}

/** Failed instances leave at once whatever the deployment's state: none may stay in rotation. */
function discardFailed(all: ClassifiedInstance[]): Step[] {
  return all
    .filter((i) => i.phase === InstancePhase.Failed && !i.busy)
    .map((i) => ({ kind: 'discard', instance: i.instance, reason: i.failedBecause?.message ?? 'failed' }));
}

/** A retire the record says began, with no step running for it, is taken up again. */
function resumeRetiring(all: ClassifiedInstance[]): Step[] {
  return all
    .filter((i) => i.phase === InstancePhase.Retiring && !i.busy)
    .map((i) => ({ kind: 'retire', instance: i.instance, reason: RetireReason.Resumed }));
}

/** Staged instances that stayed healthy for `minHealthyTime` go into rotation. */
function promoteStaged(all: ClassifiedInstance[], minHealthyTime: number, now: number) {
  const staged = all.filter((i) => i.isNew && i.phase === InstancePhase.Staged && !i.busy);
  const due = staged.filter((i) => (i.healthyAt ?? now) + minHealthyTime <= now);
  const steps: Step[] = due.map((i) => ({ kind: 'promote', instance: i.instance }));
  const dueSet = new Set(due);
  const requeueAt = earliest(
    staged.filter((i) => !dueSet.has(i)).map((i) => (i.healthyAt ?? now) + minHealthyTime),
  );
  return { steps, requeueAt };
}

type Room = { toStart: number; retire: Step[] };

/**
 * How many new instances to start and which to retire, within the budget: never more
 * containers than `instances + surge` (retiring and failed ones count: they still exist), never
 * fewer in rotation than `instances - unavailable`. Old instances that are not ready go first,
 * then the oldest; then new ones above the desired count (a scale down).
 */
function makeRoom(all: ClassifiedInstance[], input: PlanInput, canaryHold: boolean): Room {
  const n = input.desired.instances;
  const { surge, unavailable } = resolveBudget(input.strategy.maxSurge, input.strategy.maxUnavailable, n);
  const active = all.filter((i) => i.phase !== InstancePhase.Failed && i.phase !== InstancePhase.Retiring);
  const newActive = active.filter((i) => i.isNew);
  const ceiling = canaryHold ? Math.min(input.strategy.canary, n) : n;
  const maxTotal = n + Math.max(surge, canaryHold ? input.strategy.canary : 0);
  const toStart = Math.max(0, Math.min(maxTotal - all.length, ceiling - newActive.length));

  const ready = (i: ClassifiedInstance) => i.phase === InstancePhase.Ready;
  const free = (i: ClassifiedInstance) => !i.busy;
  const oldNotReady = active.filter((i) => !i.isNew && !ready(i) && free(i)).sort(oldestFirst);
  const retire: Step[] = oldNotReady.map((i) => ({
    kind: 'retire',
    instance: i.instance,
    reason: RetireReason.NotReadyOld,
  }));
  let spare = active.filter(ready).length - Math.max(0, n - unavailable);
  // While canaries wait for promotion the old revision keeps its full count, and no more.
  const oldActive = active.length - newActive.length;
  let oldQuota = canaryHold ? Math.max(0, oldActive - oldNotReady.length - n) : oldActive;
  for (const i of active.filter((i) => !i.isNew && ready(i) && free(i)).sort(oldestFirst)) {
    if (spare <= 0 || oldQuota <= 0) break;
    retire.push({ kind: 'retire', instance: i.instance, reason: RetireReason.Replaced });
    spare--;
    oldQuota--;
  }
  const excess = newActive.length - n;
  const surplus = [...newActive.filter((i) => !ready(i)), ...newActive.filter(ready)].filter(free);
  for (const i of surplus.slice(0, Math.max(0, excess))) {
    if (ready(i) && spare <= 0) break;
    retire.push({ kind: 'retire', instance: i.instance, reason: RetireReason.ScaledDown });
    if (ready(i)) spare--;
  }
  return { toStart, retire };
}

function describe(c: PlanCounts): string {
  const parts = [`${c.newReady} of ${c.desired} new ready`];
  if (c.newStarting) parts.push(`${c.newStarting} starting`);
  if (c.oldActive) parts.push(`${c.oldActive} old in service`);
  if (c.retiring) parts.push(`${c.retiring} retiring`);
  return parts.join(', ');
}

/** A failed instance this deployment started fails the rollout; an inherited one is only replaced. */
function firstFailure(all: ClassifiedInstance[]) {
  return all.find((i) => i.isNew && !i.inherited && i.phase === InstancePhase.Failed)?.failedBecause;
}

/** Waiting on canaries: promote when `autoPromoteAfter` has passed since the last progress. */
function canaryStatus(input: PlanInput, counts: PlanCounts) {
  const want = Math.min(input.strategy.canary, input.desired.instances);
  if (counts.newReady < want) return undefined;
  const after = input.strategy.autoPromoteAfter;
  const at = after === undefined ? undefined : input.progress.lastProgressAt + after;
  if (at !== undefined && at <= input.now)
    return { phase: PlanPhase.Promote, reason: PlanReason.CanaryAutoPromoted, requeueAt: undefined };
  return { phase: PlanPhase.AwaitingPromotion, reason: PlanReason.AwaitingCanaryPromotion, requeueAt: at };
}

/**
 * The next steps of a rollout from desired and observed state; pure, `now` is an input.
 * One call plans one tick: the shell executes the steps, observes again and calls again.
 */
export function planRollout(input: PlanInput): Plan {
  const { desired, strategy, progress, now } = input;
  const all = classifyInstances(input.observed, desired, strategy.healthyDeadline, now);
  const counts = countInstances(all, desired.instances);
  const discards = [...discardFailed(all), ...resumeRetiring(all)];
  const done = (phase: PlanPhase, reason: PlanReason, message: string, steps = discards) => ({
    steps,
    phase,
    reason,
    message,
    counts,
  });

  const failed = firstFailure(all);
  if (progress.paused) return done(PlanPhase.Paused, PlanReason.Paused, `paused: ${describe(counts)}`);
  if (failed) return done(PlanPhase.Failed, failed.reason, failed.message);
  const complete =
    counts.newReady === desired.instances && counts.total === desired.instances && !counts.retiring;
  if (complete) return done(PlanPhase.Complete, PlanReason.NewRevisionAvailable, describe(counts));

  const canaryHold = strategy.canary > 0 && !progress.promoted && counts.oldActive > 0;
  const canary = canaryHold ? canaryStatus(input, counts) : undefined;
  const deadline = progress.lastProgressAt + strategy.progressDeadline;
  if (!canary && deadline < now)
    return done(
      PlanPhase.Failed,
      PlanReason.ProgressDeadlineExceeded,
      `no progress for ${strategy.progressDeadline}ms: ${describe(counts)}`,
    );

  const promote = promoteStaged(all, strategy.minHealthyTime, now);
  const room = makeRoom(all, input, canaryHold);
  const starts: Step[] = Array.from({ length: room.toStart }, () => ({ kind: 'start' }));
  const steps = [...discards, ...promote.steps, ...room.retire, ...starts];
  const startingUntil = all
    .filter((i) => i.phase === InstancePhase.Starting)
    .map((i) => i.watchedSince + strategy.healthyDeadline + 1);
  const requeueAt = earliest([
    promote.requeueAt,
    canary?.requeueAt,
    canary ? undefined : deadline + 1,
    ...startingUntil,
  ]);
  if (canary?.phase === PlanPhase.Promote)
    return { ...done(canary.phase, canary.reason, 'canaries healthy; promoting', steps), requeueAt };
  const phase = canary ? canary.phase : steps.length ? PlanPhase.Progressing : PlanPhase.Waiting;
  const reason = canary ? canary.reason : PlanReason.Progressing;
  return { ...done(phase, reason, describe(counts), steps), requeueAt };
}
