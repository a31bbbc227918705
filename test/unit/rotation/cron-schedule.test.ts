import cron from 'node-cron';
import { describe, expect, it } from 'vitest';
import { cronSchedule } from '../../../src/rotation/index.ts';

type Row = { name: string; cron: string; timezone: string; after: string; want: string | undefined };

// biome-ignore format: one row, two lines, as a table reads best
const rows: Row[] = [
  { name: 'a daily time in UTC', cron: '0 3 * * *', timezone: 'UTC',
    after: '2026-12-02T08:00:00Z', want: '2026-12-03T03:00:00.000Z' },
  { name: 'strictly after: a slot is not its own next run', cron: '0 3 * * *', timezone: 'UTC',
    after: '2026-12-02T03:00:00Z', want: '2026-12-03T03:00:00.000Z' },
  { name: 'a daily time read in the declared time zone', cron: '0 3 * * *', timezone: 'Europe/Berlin',
    after: '2026-12-02T08:00:00Z', want: '2026-12-03T02:00:00.000Z' },
  { name: 'summer time moves the instant an hour', cron: '0 3 * * *', timezone: 'Europe/Berlin',
    after: '2026-03-28T12:00:00Z', want: '2026-03-29T01:00:00.000Z' },
  { name: 'the night summer time ends', cron: '0 3 * * *', timezone: 'Europe/Berlin',
    after: '2026-10-24T12:00:00Z', want: '2026-10-25T02:00:00.000Z' },
  { name: 'a time the clock skips does not run that day', cron: '30 2 * * *', timezone: 'Europe/Berlin',
    after: '2026-03-28T12:00:00Z', want: '2026-03-30T00:30:00.000Z' },
  { name: 'every 5 seconds, from a fraction of a second', cron: '*/5 * * * * *', timezone: 'UTC',
    after: '2026-12-02T08:00:03.400Z', want: '2026-12-02T08:00:05.000Z' },
  { name: 'weekdays skip the weekend', cron: '0 9 * * 1-5', timezone: 'America/New_York',
    after: '2026-12-04T15:00:00Z', want: '2026-12-07T14:00:00.000Z' },
  { name: 'every 5 seconds on Mondays only jumps to Monday', cron: '*/5 * * * * 1', timezone: 'UTC',
    after: '2026-12-02T08:00:00Z', want: '2026-12-07T00:00:00.000Z' },
  { name: "node-cron's last day of the month", cron: '0 3 L * *', timezone: 'UTC',
    after: '2026-02-02T00:00:00Z', want: '2026-02-28T03:00:00.000Z' },
  { name: '29 February on a Monday, years away', cron: '0 0 29 2 1', timezone: 'UTC',
    after: '2026-01-01T00:00:00Z', want: '2044-02-29T00:00:00.000Z' },
];

describe('cronSchedule', () => {
  it.each(rows)('$name', ({ cron, timezone, after, want }) => {
    const next = cronSchedule(cron, timezone).nextAfter(Date.parse(after));
    expect(next === undefined ? undefined : new Date(next).toISOString()).toEqual(want);
  });

  it("finds exactly the minutes node-cron's own matcher accepts over a day", () => {
    const [expression, timezone] = ['*/7 */3 * * *', 'Asia/Kolkata'];
    const matcher = cron.createTask(expression, () => undefined, { timezone });
    void matcher.destroy();
    const start = Date.parse('2026-12-02T00:00:00Z');
    const minutes = Array.from({ length: 1440 }, (_, i) => start + i * 60_000);
    const runs: number[] = [];
    const schedule = cronSchedule(expression, timezone);
    const end = start + 86_400_000;
    for (let at = schedule.nextAfter(start - 1000); at !== undefined && at < end; at = schedule.nextAfter(at))
      runs.push(at);
    expect(runs).toEqual(minutes.filter((at) => matcher.match(new Date(at))));
    expect(runs).toHaveLength(9 * 8);
  });
});
