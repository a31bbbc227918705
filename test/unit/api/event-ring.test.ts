import { describe, expect, it } from 'vitest';
import { EventRing, matchesFilter, parseTypes } from '../../../src/api/event-ring.ts';

function ringWith(n: number, capacity = 10): EventRing {
  const ring = new EventRing('e1', capacity);
  for (let i = 1; i <= n; i++)
    ring.push(i % 2 ? 'deployment:updated' : 'step:finished', i % 3 ? 'web' : 'api', { i });
  return ring;
}
const seqs = (r: { events: Array<{ seq: number }> }) => r.events.map((e) => e.seq);

describe('EventRing', () => {
  it('numbers events in order with the epoch in the id', () => {
    const ring = new EventRing('e1');
    expect(ring.push('deployment:started', 'web', {}).id).toBe('e1-1');
    expect(ring.push('deployment:updated', 'web', {}).id).toBe('e1-2');
  });

  const rows = [
    { name: 'a first connection gets nothing old', last: undefined, n: 5, want: [], gap: false },
    { name: 'a resume gets what came after its id', last: 'e1-3', n: 5, want: [4, 5], gap: false },
    { name: 'a resume at the newest event gets nothing', last: 'e1-5', n: 5, want: [], gap: false },
    {
      name: 'a resume older than the ring says events are gone',
      last: 'e1-2',
      n: 15,
      want: [6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
      gap: true,
    },
    {
      name: 'a resume at the event just before the ring is whole',
      last: 'e1-5',
      n: 15,
      want: [6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
      gap: false,
    },
    {
      name: "another process's id is a gap, with all kept events",
      last: 'zz-3',
      n: 3,
      want: [1, 2, 3],
      gap: true,
    },
    { name: 'an id from the future is a gap', last: 'e1-99', n: 3, want: [1, 2, 3], gap: true },
    { name: 'an id that is not one is a gap', last: 'garbage\u0000', n: 2, want: [1, 2], gap: true },
  ];
  it.each(rows)('$name', ({ last, n, want, gap }) => {
    const replay = ringWith(n).after(last);
    expect(seqs(replay)).toEqual(want);
    expect(replay.gap).toBe(gap);
  });

  it('keeps at most its capacity', () => {
    expect(seqs(ringWith(25, 4).after('other-1'))).toEqual([22, 23, 24, 25]);
  });
});

describe('matchesFilter', () => {
  const step = { type: 'step:failed', app: 'web' };
  const rows = [
    { name: 'no filter matches everything', types: '', app: undefined, match: true },
    { name: 'an exact type', types: 'step:failed', app: undefined, match: true },
    { name: 'a namespace', types: 'step', app: undefined, match: true },
    { name: 'another namespace', types: 'deployment', app: undefined, match: false },
    { name: 'a prefix that is not a namespace', types: 'ste', app: undefined, match: false },
    { name: 'one of several types', types: 'deployment, step:failed', app: undefined, match: true },
    { name: 'the app', types: '', app: 'web', match: true },
    { name: 'another app', types: '', app: 'api', match: false },
    { name: 'type and app must both match', types: 'step', app: 'api', match: false },
  ];
  it.each(rows)('$name', ({ types, app, match }) => {
    expect(matchesFilter(step, { types: parseTypes(types), app })).toBe(match);
  });
});
