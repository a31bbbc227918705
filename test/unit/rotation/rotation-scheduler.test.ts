import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type AppConfigInput, validateConfig } from '../../../src/config/index.ts';
import { GlintError } from '../../../src/errors/index.ts';
import { StateErrorCode } from '../../../src/etcd/index.ts';
import { createLogger } from '../../../src/log/index.ts';
import type { DeploymentRequest } from '../../../src/rollout/index.ts';
import { RotationScheduler, RotationSkipReason } from '../../../src/rotation/index.ts';
import { FakeRotationStore } from './fake-rotation-store.ts';

const T = Date.parse('2026-12-02T03:00:00Z');
const s = 1_000;
const m = 60 * s;
const h = 60 * m;

type Instance = { instance: string; createdAt: number; running: boolean };

function appsWith(rotation: AppConfigInput['rotation']) {
  const parsed = validateConfig({
    apps: {
      web: {
        image: '127.0.0.1:5000/demo-app',
        version: '1.0.0',
        instances: 2,
        port: 8080,
        routing: { frontendPort: 18080 },
        health: { type: 'http', path: '/healthz' },
        rotation,
      },
    },
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.config.apps;
}

/** A scheduler on fakes: the store, the instances and the engine's refusals are the test's. */
function scheduler(opts: {
  rotation: AppConfigInput['rotation'];
  store?: FakeRotationStore;
  instances?: Instance[];
  busy?: () => string | undefined;
}) {
  let apps = appsWith(opts.rotation);
  const store = opts.store ?? new FakeRotationStore();
  const started: Array<{ app: string; request: DeploymentRequest }> = [];
  const lines: Array<{ level: number; msg: string; reason?: string }> = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const rotations = new RotationScheduler({
    apps: () => apps,
    instances: async () => opts.instances ?? [],
    startDeployment: async (app, request) => {
      const active = opts.busy?.();
      if (active)
        throw new GlintError(StateErrorCode.DeploymentInProgress, `web already has ${active}`, {
          details: { app, activeDeploymentId: active },
        });
      started.push({ app, request });
      return { id: `d${started.length}` };
    },
    store,
    clock: { now: () => Date.now() },
    log: createLogger({ destination, level: 'debug' }),
    missedWindowMs: h,
    retryMs: 15 * s,
  });
  const reload = (rotation: AppConfigInput['rotation']) => {
    apps = appsWith(rotation);
    rotations.reload();
  };
  return { rotations, store, started, lines, reload };
}

let running: RotationScheduler[] = [];
const track = <T extends { rotations: RotationScheduler }>(x: T) => {
  running.push(x.rotations);
  return x;
};

beforeEach(() => {
  vi.useFakeTimers({ now: T + 1 * s });
});

afterEach(async () => {
  await Promise.all(running.map((r) => r.stop()));
  running = [];
  vi.useRealTimers();
});

describe('RotationScheduler: cron', () => {
  it('starts a rotate deployment at each slot and records it', async () => {
    const { rotations, started, store } = track(scheduler({ rotation: { cron: '*/5 * * * * *' } }));
    rotations.start();
    await vi.advanceTimersByTimeAsync(3_500);
    expect(started).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(started.map((r) => r.request.kind)).toEqual(['rotate']);
    expect(started[0]?.request.cause).toBe('rotation: cron */5 * * * * * (UTC) at 2026-12-02T03:00:05.000Z');
    expect(started[0]?.request.replaceCreatedBefore).toBeUndefined();
    expect(store.record('web')).toMatchObject({
      lastSlot: '2026-12-02T03:00:05.000Z',
      last: { trigger: 'cron', outcome: 'started', deploymentId: 'd1', slot: '2026-12-02T03:00:05.000Z' },
    });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(started).toHaveLength(3);
  });

  it('runs each slot once when two schedulers read the same record before either writes', async () => {
    const store = new FakeRotationStore(50);
    const a = track(scheduler({ rotation: { cron: '*/5 * * * * *' }, store }));
    const b = track(scheduler({ rotation: { cron: '*/5 * * * * *' }, store }));
    a.rotations.start();
    b.rotations.start();
    await vi.advanceTimersByTimeAsync(20_000);
    expect(a.started.length + b.started.length).toBe(4);
    expect(
      b.lines.concat(a.lines).some((l) => l.msg === 'cron rotation already taken by another daemon'),
    ).toBe(true);
  });

  it('skips a slot while a deployment is active, records why, and does not try it again', async () => {
    const { rotations, started, store, lines } = track(
      scheduler({ rotation: { cron: '*/5 * * * * *' }, busy: () => 'web-deploy-1' }),
    );
    rotations.start();
    await vi.advanceTimersByTimeAsync(4_500);
    expect(started).toEqual([]);
    expect(store.record('web')?.last).toMatchObject({
      outcome: 'skipped',
      reason: RotationSkipReason.DeploymentInProgress,
      slot: '2026-12-02T03:00:05.000Z',
    });
    const writes = store.writes;
    await vi.advanceTimersByTimeAsync(4_000);
    expect(store.writes).toBe(writes);
    expect(lines.filter((l) => l.reason === RotationSkipReason.DeploymentInProgress)).toHaveLength(1);
  });

  it('runs a slot missed while no daemon led once at start, inside the window', async () => {
    const store = new FakeRotationStore();
    await store.save(
      { app: 'web', lastSlot: new Date(T - 24 * h).toISOString(), updatedAt: new Date(T).toISOString() },
      { expectedModRevision: 0 },
    );
    vi.setSystemTime(T + 10 * m);
    const { rotations, started } = track(scheduler({ rotation: { cron: '0 3 * * *' }, store }));
    rotations.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(started.map((r) => r.request.cause)).toEqual([
      'rotation: cron 0 3 * * * (UTC) at 2026-12-02T03:00:00.000Z, missed while no daemon led',
    ]);
    await vi.advanceTimersByTimeAsync(10 * m);
    expect(started).toHaveLength(1);
    expect(rotations.nextRun('web')).toBe('2026-12-03T03:00:00.000Z');
  });

  it('skips a missed slot older than the window and logs the reason', async () => {
    const store = new FakeRotationStore();
    await store.save(
      { app: 'web', lastSlot: new Date(T - 24 * h).toISOString(), updatedAt: new Date(T).toISOString() },
      { expectedModRevision: 0 },
    );
    vi.setSystemTime(T + 2 * h);
    const { rotations, started, lines } = track(scheduler({ rotation: { cron: '0 3 * * *' }, store }));
    rotations.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(started).toEqual([]);
    expect(store.record('web')).toMatchObject({
      lastSlot: '2026-12-02T03:00:00.000Z',
      last: { outcome: 'skipped', reason: RotationSkipReason.MissedBeyondWindow },
    });
    expect(lines.find((l) => l.reason === RotationSkipReason.MissedBeyondWindow)?.msg).toMatch(
      /was missed while no daemon led; it is 7200s late, past the 3600s window/,
    );
  });
});

describe('RotationScheduler: maxAge', () => {
  it('replaces only the instances past their age, and waits for an active deployment', async () => {
    let active: string | undefined = 'web-deploy-7';
    const instances = [
      { instance: 'old', createdAt: T - 2 * h, running: true },
      { instance: 'young', createdAt: T - 10 * m, running: true },
    ];
    const { rotations, started } = track(
      scheduler({ rotation: { maxAge: '1h' }, instances, busy: () => active }),
    );
    rotations.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(started).toEqual([]);
    expect(rotations.nextRuns()).toEqual({
      web: { at: new Date(T + 16 * s).toISOString(), trigger: 'maxAge' },
    });
    active = undefined;
    await vi.advanceTimersByTimeAsync(15 * s);
    expect(started.map((r) => r.request)).toEqual([
      {
        kind: 'rotate',
        cause: 'rotation: older than maxAge 3600s: old',
        replaceCreatedBefore: T - 2 * h + 1,
      },
    ]);
    expect(rotations.nextRun('web')).toBe(new Date(T + 50 * m).toISOString());
  });

  it('shows the sooner of the next cron slot and the next instance due', async () => {
    const instances = [{ instance: 'a', createdAt: T - 30 * m, running: true }];
    const { rotations } = track(scheduler({ rotation: { cron: '0 3 * * *', maxAge: '1h' }, instances }));
    rotations.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(rotations.nextRuns()).toEqual({
      web: { at: new Date(T + 30 * m).toISOString(), trigger: 'maxAge' },
    });
  });
});

describe('RotationScheduler: lifecycle', () => {
  it('starts nothing after stop', async () => {
    const { rotations, started } = scheduler({ rotation: { cron: '*/5 * * * * *' } });
    rotations.start();
    await vi.advanceTimersByTimeAsync(0);
    await rotations.stop();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(started).toEqual([]);
    expect(rotations.nextRuns()).toEqual({});
  });

  it('a schedule brought by a reload does not run a slot that passed before it', async () => {
    vi.setSystemTime(T - 30 * m);
    const x = track(scheduler({ rotation: { maxAge: '48h' } }));
    x.rotations.start();
    await vi.advanceTimersByTimeAsync(40 * m);
    x.reload({ cron: '0 3 * * *', maxAge: '48h' });
    await vi.advanceTimersByTimeAsync(0);
    expect(x.started).toEqual([]);
    expect(x.rotations.nextRun('web')).toBe('2026-12-03T03:00:00.000Z');
  });

  it('reload takes a changed schedule and forgets a removed one', async () => {
    const x = track(scheduler({ rotation: { cron: '0 3 * * *' } }));
    x.rotations.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(x.rotations.nextRun('web')).toBe('2026-12-03T03:00:00.000Z');
    x.reload({ cron: '30 3 * * *' });
    await vi.advanceTimersByTimeAsync(0);
    expect(x.rotations.nextRun('web')).toBe('2026-12-02T03:30:00.000Z');
    x.reload({});
    await vi.advanceTimersByTimeAsync(60 * m);
    expect(x.rotations.nextRun('web')).toBeNull();
    expect(x.started).toEqual([]);
  });
});
