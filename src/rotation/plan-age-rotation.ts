import { instanceJitter } from './instance-jitter.ts';

export type AgingInstance = { instance: string; createdAt: number };

export type AgedInstance = AgingInstance & {
  /** When it is (or was) due: createdAt + maxAge + its jitter. */
  dueAt: number;
};

export type AgeRotationPlan = {
  /** Instances past their due time, oldest first. */
  due: AgedInstance[];
  /**
   * The cutoff for the rotate deployment: it replaces instances created before it, which are
   * the due ones and any older (an older instance is due soon anyway).
   */
  replaceCreatedBefore?: number;
  /** When the next instance that is not due yet will be. */
  nextDueAt?: number;
};

/** Which running instances are older than `maxAge` plus their own jitter at `now`. */
export function planAgeRotation(input: {
  maxAge: number | undefined;
  jitter: number;
  instances: readonly AgingInstance[];
  now: number;
}): AgeRotationPlan {
  const { maxAge, jitter, instances, now } = input;
  if (maxAge === undefined) return { due: [] };
  const timed = instances
    .map((i) => ({ ...i, dueAt: i.createdAt + maxAge + instanceJitter(i.instance, jitter) }))
    .sort((a, b) => a.createdAt - b.createdAt || a.instance.localeCompare(b.instance));
  const due = timed.filter((i) => i.dueAt <= now);
  const waiting = timed.filter((i) => i.dueAt > now).map((i) => i.dueAt);
  const plan: AgeRotationPlan = { due };
  if (due.length > 0) plan.replaceCreatedBefore = Math.max(...due.map((i) => i.createdAt)) + 1;
  if (waiting.length > 0) plan.nextDueAt = Math.min(...waiting);
  return plan;
}
