import { describe, expect, it } from 'vitest';
import {
  assignServerIds,
  DEFAULT_TIMEOUTS,
  type LbModel,
  type UnnumberedServer,
} from '../../../src/lb/index.ts';

const check = {
  type: 'http' as const,
  path: '/healthz',
  intervalMs: 1000,
  rise: 2,
  fall: 2,
  timeoutMs: 1000,
};
const srv = (name: string, id?: number): UnnumberedServer => ({
  name,
  address: '127.0.0.1',
  port: 30000,
  state: 'ready',
  ...(id === undefined ? {} : { id }),
});
const model = (servers: UnnumberedServer[]) => ({
  runDir: '/run',
  hardStopAfterMs: 30_000,
  timeouts: DEFAULT_TIMEOUTS,
  apps: [{ name: 'web', frontend: { bind: ':80' }, check, drainTimeoutMs: 1000, servers }],
});
const ids = (m: LbModel) => Object.fromEntries(m.apps[0]!.servers.map((s) => [s.name, s.id]));

type Row = {
  name: string;
  previous?: UnnumberedServer[];
  next: UnnumberedServer[];
  want: Record<string, number>;
};

const rows: Row[] = [
  { name: 'numbers a first render from 1', next: [srv('a'), srv('b')], want: { a: 1, b: 2 } },
  {
    name: 'keeps the ids of servers that stay, whatever their order',
    previous: [srv('a', 1), srv('b', 2)],
    next: [srv('b'), srv('a')],
    want: { a: 1, b: 2 },
  },
  {
    name: 'gives a new server an id above every id either model holds',
    previous: [srv('a', 1), srv('b', 5)],
    next: [srv('a'), srv('c')],
    want: { a: 1, c: 6 },
  },
  {
    name: 'keeps an id the next model asks for when it is free',
    previous: [srv('a', 1)],
    next: [srv('a'), srv('z', 9), srv('y')],
    want: { a: 1, z: 9, y: 10 },
  },
  {
    name: 'ignores an asked-for id that another server already holds',
    previous: [srv('a', 1)],
    next: [srv('a'), srv('b', 1)],
    want: { a: 1, b: 2 },
  },
  {
    name: 'prefers the previous id over the one the next model carries',
    previous: [srv('a', 3)],
    next: [srv('a', 7)],
    want: { a: 3 },
  },
];

describe('assignServerIds', () => {
  it.each(rows)('$name', (row) => {
    const previous = row.previous ? assignServerIds(undefined, model(row.previous)) : undefined;
    expect(ids(assignServerIds(previous, model(row.next)))).toEqual(row.want);
  });

  it('never gives two servers of one app the same id', () => {
    const next = assignServerIds(
      assignServerIds(undefined, model([srv('a'), srv('b'), srv('c')])),
      model([srv('c'), srv('d', 2), srv('e', 3), srv('f')]),
    );
    const values = next.apps[0]!.servers.map((s) => s.id);
    expect(new Set(values).size).toBe(values.length);
  });
});
