import { describe, expect, it } from 'vitest';
import { cronSchedule, planCronRotation, RotationSkipReason } from '../../../src/rotation/index.ts';

const T = Date.parse('2026-12-02T03:00:00Z');
const s = 1_000;
const m = 60 * s;
const h = 60 * m;
const d = 24 * h;
const DAILY = cronSchedule('0 3 * * *', 'UTC');
const EVERY_5S = cronSchedule('*/5 * * * * *', 'UTC');

type Row = {
  name: string;
  every?: 'daily' | '5s' | 'none';
  lastSlot?: number;
  leaderSince: number;
  scheduledSince?: number;
  now: number;
  want: { action: string; slot?: number; missed?: boolean; reason?: string; next?: number };
};

// biome-ignore format: one row, two lines, as a table reads best
const rows: Row[] = [
  { name: 'waits for the first slot when nothing ever ran', leaderSince: T - 2 * h, now: T - h,
    want: { action: 'wait', next: T } },
  { name: 'runs the slot that just passed', lastSlot: T - d, leaderSince: T - 2 * d, now: T + 2 * s,
    want: { action: 'run', slot: T, missed: false, next: T + d } },
  { name: 'runs a slot reached while leading before any record exists', leaderSince: T - h, now: T + s,
    want: { action: 'run', slot: T, missed: false, next: T + d } },
  { name: 'does not run a slot already taken', lastSlot: T, leaderSince: T - d, now: T + 10 * s,
    want: { action: 'wait', next: T + d } },
  { name: 'runs a slot missed while no daemon led, once, inside the window', lastSlot: T - d,
    leaderSince: T + 30 * m, now: T + 30 * m, want: { action: 'run', slot: T, missed: true, next: T + d } },
  { name: 'skips a missed slot older than the window, with a reason', lastSlot: T - d, leaderSince: T + 2 * h,
    now: T + 2 * h, want: { action: 'skip', slot: T, missed: true, reason: RotationSkipReason.MissedBeyondWindow, next: T + d } },
  { name: 'skips a slot the leader itself reached too late', lastSlot: T - d, leaderSince: T - 2 * d,
    now: T + 2 * h, want: { action: 'skip', slot: T, missed: false, reason: RotationSkipReason.MissedBeyondWindow, next: T + d } },
  { name: 'slots before this daemon led are not owed when nothing ever ran', leaderSince: T + h, now: T + h,
    want: { action: 'wait', next: T + d } },
  { name: 'several missed slots collapse into one run of the newest', every: '5s', lastSlot: T - m,
    leaderSince: T + 2 * s, now: T + 2 * s, want: { action: 'run', slot: T, missed: true, next: T + 5 * s } },
  { name: 'a month-long outage of a 5 s schedule is one run of the newest slot', every: '5s', lastSlot: T - 30 * d,
    leaderSince: T + s, now: T + s, want: { action: 'run', slot: T, missed: true, next: T + 5 * s } },
  { name: 'a record a year old costs one skip of the newest slot', lastSlot: T - 365 * d,
    leaderSince: T + 5 * h, now: T + 5 * h, want: { action: 'skip', slot: T, missed: true, reason: RotationSkipReason.MissedBeyondWindow, next: T + d } },
  { name: 'a timer that fires a little early waits for its slot', every: '5s', lastSlot: T - 5 * s,
    leaderSince: T - h, now: T - 1, want: { action: 'wait', next: T } },
  { name: 'a schedule a reload brought owes nothing from before it', lastSlot: T - d, leaderSince: T - 2 * d,
    scheduledSince: T + 10 * m, now: T + 20 * m, want: { action: 'wait', next: T + d } },
  { name: 'a schedule a reload brought runs its first slot after it', lastSlot: T - d, leaderSince: T - 2 * d,
    scheduledSince: T - 10 * m, now: T + s, want: { action: 'run', slot: T, missed: false, next: T + d } },
  { name: 'an app without a cron has nothing to run', every: 'none', lastSlot: T - d, leaderSince: T - d,
    now: T + s, want: { action: 'wait' } },
];

const schedules = { daily: DAILY, '5s': EVERY_5S, none: undefined };

describe('planCronRotation', () => {
  it.each(rows)('$name', (row) => {
    const plan = planCronRotation({
      schedule: schedules[row.every ?? 'daily'],
      lastSlot: row.lastSlot,
      leaderSince: row.leaderSince,
      scheduledSince: row.scheduledSince,
      now: row.now,
      missedWindow: h,
    });
    const { decision } = plan;
    expect({
      action: decision.action,
      ...('slot' in decision ? { slot: decision.slot, missed: decision.missed } : {}),
      ...('reason' in decision ? { reason: decision.reason } : {}),
      ...(plan.nextRunAt === undefined ? {} : { next: plan.nextRunAt }),
    }).toEqual(row.want);
  });

  it('says in a skip when the slot was, how late it is, the window and the next run', () => {
    const { decision } = planCronRotation({
      schedule: DAILY,
      lastSlot: T - d,
      leaderSince: T + 2 * h,
      now: T + 2 * h,
      missedWindow: h,
    });
    expect(decision.action === 'skip' && decision.message).toBe(
      'the rotation due at 2026-12-02T03:00:00.000Z was missed while no daemon led; it is 7200s late, ' +
        'past the 3600s window for late runs; the next is at 2026-12-03T03:00:00.000Z',
    );
  });
});
