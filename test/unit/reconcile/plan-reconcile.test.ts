import { describe, expect, it } from 'vitest';
import {
  type AppObservation,
  planReconcile,
  type ReconcileAction,
  type ReconcileContainer,
} from '../../../src/reconcile/index.ts';

const NOW = 1_000_000;
const GRACE = 60_000;

let serial = 0;
function container(over: Partial<ReconcileContainer> = {}): ReconcileContainer {
  serial++;
  return {
    app: 'web',
    instance: `i${serial}`,
    node: 'local',
    containerId: `c${serial}`,
    specHash: 'spec-a',
    running: true,
    createdAt: NOW - 100_000,
    ...over,
  };
}

function app(over: Partial<AppObservation> = {}): AppObservation {
  return {
    app: 'web',
    declared: true,
    known: true,
    desired: { specHash: 'spec-a', instances: 2 },
    activeDeployment: false,
    containers: [container(), container()],
    failing: new Map(),
    ...over,
  };
}

const plan = (o: AppObservation) => planReconcile({ apps: [o], undeclaredGraceMs: GRACE, now: NOW })[0]!;
const summary = (a: ReconcileAction) =>
  a.kind === 'heal' ? `heal${a.crash ? ' (crash)' : ''}: ${a.why}` : a.kind;

describe('planReconcile', () => {
  it.each<{ name: string; app: AppObservation; want: string | RegExp }>([
    { name: 'an app that matches its release', app: app(), want: 'ok' },
    {
      name: 'a dead instance',
      app: app({
        containers: [
          container(),
          container({ instance: 'dead', running: false, exit: 'exited with code 137' }),
        ],
      }),
      want: 'heal (crash): instance dead stopped: exited with code 137',
    },
    {
      name: 'an instance that failed health after being ready',
      app: app({
        containers: [container({ instance: 'sick' }), container()],
        failing: new Map([['sick', 'status 503']]),
      }),
      want: 'heal (crash): instance sick failed its health check: status 503',
    },
    {
      name: 'an instance of another spec (changed by hand)',
      app: app({ containers: [container(), container({ instance: 'odd', specHash: 'spec-x' })] }),
      want: /^heal: instance odd does not match the current revision/,
    },
    {
      name: 'a missing instance (removed by hand)',
      app: app({ containers: [container()] }),
      want: 'heal: 1 of 2 instances exist',
    },
    {
      name: 'one too many (started by hand with the right spec)',
      app: app({ containers: [container(), container(), container()] }),
      want: 'heal: 3 instances exist, 2 declared',
    },
    {
      name: 'a running instance HAProxy lost (restarted by hand from an older state)',
      app: app({ containers: [container({ instance: 'left' }), container()], outOfRotation: ['left'] }),
      want: "heal: instance left is not in HAProxy's rotation",
    },
    {
      name: 'HAProxy could not be read: rotation not judged',
      app: app({ outOfRotation: undefined }),
      want: 'ok',
    },
    {
      name: 'the last heal failed',
      app: app({
        containers: [container()],
        lastHealFailure: 'instance x stopped running: exited with code 3',
      }),
      want: 'heal (crash): the last heal failed: instance x stopped running: exited with code 3',
    },
    {
      name: 'a deployment is active (it replaces what dies itself)',
      app: app({ activeDeployment: true, containers: [container({ running: false })] }),
      want: 'busy',
    },
    {
      name: 'no deployment ever succeeded',
      app: app({ desired: undefined, containers: [] }),
      want: 'unreleased',
    },
    {
      name: 'a crash within the backoff',
      app: app({
        containers: [container({ running: false }), container()],
        backoff: { streak: 3, specHash: 'spec-a', lastHealAt: NOW - 500, nextAttemptAt: NOW + 822 },
      }),
      want: 'backoff',
    },
    {
      name: 'a crash after the backoff passed',
      app: app({
        containers: [
          container({ instance: 'late', running: false, exit: 'exited with code 3' }),
          container(),
        ],
        backoff: { streak: 3, specHash: 'spec-a', lastHealAt: NOW - 5_000, nextAttemptAt: NOW - 3_678 },
      }),
      want: 'heal (crash): instance late stopped: exited with code 3',
    },
    {
      name: 'a crash of a new revision ignores the old backoff',
      app: app({
        containers: [container({ instance: 'new', running: false, exit: 'exited with code 1' }), container()],
        backoff: { streak: 30, specHash: 'spec-old', lastHealAt: NOW - 500, nextAttemptAt: NOW + 60_000 },
      }),
      want: 'heal (crash): instance new stopped: exited with code 1',
    },
    {
      name: 'a drift is healed at once even during a crash backoff',
      app: app({
        containers: [container()],
        backoff: { streak: 3, specHash: 'spec-a', lastHealAt: NOW - 500, nextAttemptAt: NOW + 822 },
      }),
      want: 'heal: 1 of 2 instances exist',
    },
  ])('$name → $want', ({ app: o, want }) => {
    const got = summary(plan(o));
    if (typeof want === 'string') expect(got).toBe(want);
    else expect(got).toMatch(want);
  });

  it('a crash heal names its culprit, whose log lines tell why', () => {
    const dead = container({ instance: 'dead', running: false, exit: 'exited with code 3' });
    const action = plan(app({ containers: [dead, container()] }));
    expect(action).toMatchObject({
      kind: 'heal',
      culprit: { instance: 'dead', containerId: dead.containerId, node: 'local' },
    });
  });

  it('a backoff says until when and why', () => {
    const action = plan(
      app({
        containers: [
          container({ instance: 'dead', running: false, exit: 'exited with code 3' }),
          container(),
        ],
        backoff: { streak: 3, specHash: 'spec-a', lastHealAt: NOW - 500, nextAttemptAt: NOW + 822 },
      }),
    );
    expect(action).toEqual(
      expect.objectContaining({
        kind: 'backoff',
        until: NOW + 822,
        why: 'crash loop (heal 3): instance dead stopped: exited with code 3',
      }),
    );
  });

  describe('an app no longer declared', () => {
    const undeclared = (over: Partial<AppObservation>) =>
      app({ declared: false, desired: undefined, ...over });

    it.each<{ name: string; app: AppObservation; want: Partial<ReconcileAction> }>([
      {
        name: 'seen for the first time: its grace begins now',
        app: undeclared({}),
        want: { kind: 'await-grace', since: NOW, until: NOW + GRACE },
      },
      {
        name: 'within its grace',
        app: undeclared({ undeclaredSince: NOW - GRACE + 1 }),
        want: { kind: 'await-grace', since: NOW - GRACE + 1 },
      },
      {
        name: 'past its grace: removed',
        app: undeclared({ undeclaredSince: NOW - GRACE }),
        want: { kind: 'remove' },
      },
      {
        name: 'never run by this installation: left alone',
        app: undeclared({ known: false, undeclaredSince: NOW - GRACE * 10 }),
        want: { kind: 'foreign' },
      },
      { name: 'with no containers left', app: undeclared({ containers: [] }), want: { kind: 'ok' } },
    ])('$name', ({ app: o, want }) => {
      expect(plan(o)).toMatchObject(want);
    });

    it('removes every container of it, running or not', () => {
      const cs = [container(), container({ running: false })];
      const action = plan(undeclared({ containers: cs, undeclaredSince: NOW - GRACE }));
      expect(action).toEqual({ kind: 'remove', app: 'web', containers: cs });
    });
  });

  it('decides each app on its own', () => {
    const actions = planReconcile({
      apps: [app({ app: 'a' }), app({ app: 'b', containers: [] }), app({ app: 'c', activeDeployment: true })],
      undeclaredGraceMs: GRACE,
      now: NOW,
    });
    expect(actions.map((a) => `${a.app}:${a.kind}`)).toEqual(['a:ok', 'b:heal', 'c:busy']);
  });
});
