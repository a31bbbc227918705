import type { CronSchedule } from './cron-schedule.ts';
import { RotationSkipReason } from './rotation-reasons.ts';

export type CronDecision =
  | { action: 'wait' }
  /** Run now for `slot`; `missed` when it fell before this daemon led (a catch-up run). */
  | { action: 'run'; slot: number; missed: boolean }
  | { action: 'skip'; slot: number; missed: boolean; reason: RotationSkipReason; message: string };

export type CronRotationPlan = { decision: CronDecision; nextRunAt?: number };

export type CronRotationInput = {
  schedule: CronSchedule | undefined;
  /** The newest slot already run or skipped (the app's rotation record), if any. */
  lastSlot: number | undefined;
  /** When this daemon became leader: slots before it were missed, not merely due. */
  leaderSince: number;
  /** When a reload added or changed this schedule here: nothing before it is owed. */
  scheduledSince?: number | undefined;
  now: number;
  /** How late a slot may still run; older ones are skipped with a reason. */
  missedWindow: number;
};

/**
 * The newest slot in (after, now]. Searches backwards from `now` over doubling spans, so a
 * long outage costs a few dozen look-ups rather than one per missed slot.
 */
function latestSlot(schedule: CronSchedule, after: number, now: number): number | undefined {
  let found: number | undefined;
  for (let span = 1_000; found === undefined; span *= 2) {
    const from = Math.max(after, now - span);
    const slot = schedule.nextAfter(from);
    if (slot !== undefined && slot <= now) found = slot;
    else if (from === after) return undefined;
  }
  for (
    let next = schedule.nextAfter(found);
    next !== undefined && next <= now;
    next = schedule.nextAfter(found)
  )
    found = next;
  return found;
}

const iso = (at: number) => new Date(at).toISOString();

/**
 * Whether a cron rotation is due at `now`. Several slots passed since the last one collapse
 * into one run for the newest; without a record nothing before this daemon led counts, and
 * nothing before a reload that brought the schedule, since no rotation was owed then.
 */
export function planCronRotation(input: CronRotationInput): CronRotationPlan {
  const { schedule, lastSlot, leaderSince, scheduledSince, now, missedWindow } = input;
  if (!schedule) return { decision: { action: 'wait' } };
  const next = schedule.nextAfter(now);
  const plan = (decision: CronDecision): CronRotationPlan =>
    next === undefined ? { decision } : { decision, nextRunAt: next };
  const slot = latestSlot(schedule, Math.max(lastSlot ?? leaderSince, scheduledSince ?? 0), now);
  if (slot === undefined) return plan({ action: 'wait' });
  const missed = slot < leaderSince;
  if (now - slot <= missedWindow) return plan({ action: 'run', slot, missed });
  return plan({
    action: 'skip',
    slot,
    missed,
    reason: RotationSkipReason.MissedBeyondWindow,
    message:
      `the rotation due at ${iso(slot)} was missed ${missed ? 'while no daemon led' : 'while etcd or the engine did not answer'}; ` +
      `it is ${Math.round((now - slot) / 1000)}s late, past the ${Math.round(missedWindow / 1000)}s window for late runs` +
      (next === undefined ? '' : `; the next is at ${iso(next)}`),
  });
}
