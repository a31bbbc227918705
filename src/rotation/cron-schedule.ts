import cron from 'node-cron';

/** A cron expression read in a time zone: when its next run after an instant is. */
export type CronSchedule = {
  readonly expression: string;
  readonly timezone: string;
  /** The first run strictly after `after` (epoch ms, whole seconds), or undefined if none within years. */
  nextAfter(after: number): number | undefined;
};

type LocalTime = { year: number; month: number; day: number; hour: number; minute: number; second: number };

// '0 0 29 2 1' (29 February on a Monday) recurs every 28 years; nothing declarable needs more.
const MAX_DAYS = 366 * 29;

const formats = new Map<string, Intl.DateTimeFormat>();

function formatFor(timezone: string): Intl.DateTimeFormat {
  let format = formats.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(timezone, format);
  }
  return format;
}

function localTime(at: number, timezone: string): LocalTime {
  const parts: Record<string, number> = {};
  for (const p of formatFor(timezone).formatToParts(at))
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return {
    year: parts.year ?? 0,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  };
}

function asUtc(t: LocalTime): number {
  return Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
}

/** The instant a wall-clock time in `timezone` names (the later offset wins around a DST change). */
function instantOf(t: LocalTime, timezone: string): number {
  const wall = asUtc(t);
  const offset = (at: number) => asUtc(localTime(at, timezone)) - at;
  const guess = wall - offset(wall);
  return wall - offset(guess);
}

function nextDay(t: Pick<LocalTime, 'year' | 'month' | 'day'>) {
  const d = new Date(Date.UTC(t.year, t.month - 1, t.day + 1));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

const secondOfDay = (h: number, m: number, s: number) => h * 3600 + m * 60 + s;
const ascending = (values: readonly (number | string)[]) =>
  values
    .map(Number)
    .filter(Number.isFinite)
    .sort((a, b) => a - b);

/**
 * node-cron parses and matches the expression (its own dialect, the one the declaration is
 * validated with, including `L`, `W` and `#`), but its public surface only gives the next run
 * of a started task from the wall clock. This walks the days from any instant and lets
 * node-cron's matcher decide each candidate, so the planner can ask about the past and the
 * future with `now` as an input.
 */
export function cronSchedule(expression: string, timezone: string): CronSchedule {
  const fields = cron.parse(expression);
  const task = cron.createTask(expression, () => undefined, { timezone, name: `rotation ${expression}` });
  // Only the matcher is wanted: the task never starts and leaves node-cron's registry at once.
  void task.destroy();
  const [hours, minutes, seconds] = [
    ascending(fields.hour),
    ascending(fields.minute),
    ascending(fields.second),
  ];
  const months = new Set(ascending(fields.month));
  const matches = (at: number) => task.match(new Date(at));

  const firstOnDay = (day: Pick<LocalTime, 'year' | 'month' | 'day'>, from: number, fromSecond: number) => {
    const first = { ...day, hour: hours[0] ?? 0, minute: minutes[0] ?? 0, second: seconds[0] ?? 0 };
    const probe = instantOf(first, timezone);
    // The day's first candidate exists on the wall clock but does not match: the day is out.
    if (asUtc(localTime(probe, timezone)) === asUtc(first) && !matches(probe)) return undefined;
    for (const hour of hours)
      for (const minute of minutes)
        for (const second of seconds) {
          if (secondOfDay(hour, minute, second) < fromSecond) continue;
          const at = instantOf({ ...day, hour, minute, second }, timezone);
          if (at >= from && matches(at)) return at;
        }
    return undefined;
  };

  return {
    expression,
    timezone,
    nextAfter(after) {
      const from = Math.floor(after / 1000) * 1000 + 1000;
      const start = localTime(from, timezone);
      let day: Pick<LocalTime, 'year' | 'month' | 'day'> = start;
      for (let i = 0; i < MAX_DAYS; i++, day = nextDay(day)) {
        if (!months.has(day.month)) continue;
        const fromSecond = i === 0 ? secondOfDay(start.hour, start.minute, start.second) : 0;
        const found = firstOnDay(day, from, fromSecond);
        if (found !== undefined) return found;
      }
      return undefined;
    },
  };
}
