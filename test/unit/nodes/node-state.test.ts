import { describe, expect, it } from 'vitest';
import {
  initialNodeStatus,
  type NodeStatus,
  nextNodeStatus,
  type PingResult,
} from '../../../src/nodes/node-state.ts';

const DOWN_AFTER = 30_000;
const ok = (at: number): PingResult => ({ ok: true, at });
const fail = (at: number, error = 'connect ECONNREFUSED'): PingResult => ({ ok: false, at, error });
const up: NodeStatus = { state: 'up', since: 0, lastContact: 1_000 };

const rows: { name: string; from: NodeStatus; pings: PingResult[]; want: Partial<NodeStatus> }[] = [
  {
    name: 'a first answer brings an engine up',
    from: initialNodeStatus(0),
    pings: [ok(500)],
    want: { state: 'up', since: 500, lastContact: 500, failingSince: undefined },
  },
  {
    name: 'an engine that never answered stays unreachable until the period passes',
    from: initialNodeStatus(0),
    pings: [fail(5_000), fail(29_999)],
    want: { state: 'unreachable', since: 0, failingSince: 0 },
  },
  {
    name: 'an engine that never answered is down after the period',
    from: initialNodeStatus(0),
    pings: [fail(30_000)],
    want: { state: 'down', since: 30_000 },
  },
  {
    name: 'one failed ping makes an up engine unreachable, not down',
    from: up,
    pings: [fail(6_000)],
    want: { state: 'unreachable', since: 6_000, failingSince: 6_000, lastContact: 1_000 },
  },
  {
    name: 'failing for the whole period makes it down, counted from its first failure',
    from: up,
    pings: [fail(6_000), fail(20_000), fail(36_000)],
    want: { state: 'down', since: 36_000, failingSince: 6_000, lastError: 'connect ECONNREFUSED' },
  },
  {
    name: 'an answer inside the period resets the count',
    from: up,
    pings: [fail(6_000), ok(20_000), fail(30_000), fail(50_000)],
    want: { state: 'unreachable', failingSince: 30_000, lastContact: 20_000 },
  },
  {
    name: 'a down engine stays down while it fails, keeping when it went down',
    from: up,
    pings: [fail(6_000), fail(36_000), fail(90_000, 'timeout')],
    want: { state: 'down', since: 36_000, lastError: 'timeout' },
  },
  {
    name: 'a down engine that answers is up again at once',
    from: up,
    pings: [fail(6_000), fail(36_000), ok(90_000)],
    want: { state: 'up', since: 90_000, lastContact: 90_000, lastError: undefined },
  },
  {
    name: 'an up engine that answers keeps its since and moves its last contact',
    from: up,
    pings: [ok(5_000), ok(10_000)],
    want: { state: 'up', since: 0, lastContact: 10_000 },
  },
];

describe('nextNodeStatus', () => {
  it.each(rows)('$name', ({ from, pings, want }) => {
    const status = pings.reduce((s, p) => nextNodeStatus(s, p, DOWN_AFTER), from);
    const entries = Object.entries(want);
    expect(status).toMatchObject(Object.fromEntries(entries.filter(([, v]) => v !== undefined)));
    for (const [k] of entries.filter(([, v]) => v === undefined))
      expect(status[k as keyof NodeStatus], k).toBeUndefined();
  });
});
