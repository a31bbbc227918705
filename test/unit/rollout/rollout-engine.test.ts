import { afterEach, describe, expect, it } from 'vitest';
import { type AppConfigInput, validateConfig } from '../../../src/config/index.ts';
import type { DeploymentRecord } from '../../../src/etcd/index.ts';
import { silentLogger } from '../../../src/log/index.ts';
import { RolloutEngine } from '../../../src/rollout/index.ts';
import { waitFor } from '../../support/wait-for.ts';
import { FakeLoadBalancer, FakeRegistry, FakeReleases, FakeRuntime, FakeStore } from './fake-ports.ts';

const FINISHED = ['succeeded', 'failed', 'rolled_back', 'cancelled'];

function world(app: Partial<AppConfigInput> = {}) {
  const parsed = validateConfig({
    apps: {
      web: {
        image: '127.0.0.1:5000/demo-app',
        version: '1.0.0',
        instances: 3,
        port: 8080,
        routing: { frontendPort: 18080 },
        health: {
          type: 'http',
          path: '/healthz',
          interval: '20ms',
          timeout: '10ms',
          healthyThreshold: 1,
          unhealthyThreshold: 1,
        },
        strategy: {
          maxSurge: 1,
          maxUnavailable: 0,
          minHealthyTime: '30ms',
          healthyDeadline: '3s',
          drainTimeout: '50ms',
          stopTimeout: '10ms',
        },
        ...app,
      },
    },
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  const runtime = new FakeRuntime();
  const lb = new FakeLoadBalancer(runtime);
  const registry = new FakeRegistry();
  const store = new FakeStore();
  const releases = new FakeReleases();
  const engine = new RolloutEngine({
    apps: () => parsed.config.apps,
    runtime,
    lb,
    registry,
    store,
    releases,
    clock: { now: () => Date.now() },
    log: silentLogger(),
  });
  const finished = (id: string) =>
    waitFor(
      async () => {
        const r = await engine.get('web', id);
        return FINISHED.includes(r.state) ? r : undefined;
      },
      { timeoutMs: 20_000, what: `deployment ${id} to finish` },
    );
  const state = (id: string, want: DeploymentRecord['state']) =>
    waitFor(async () => ((await engine.get('web', id)).state === want ? true : undefined), {
      timeoutMs: 20_000,
      what: want,
    });
  const versions = () =>
    [...runtime.containers.values()]
      .filter((c) => c.running)
      .map((c) => c.version)
      .sort();
  engines.push(engine);
  return {
    engine,
    runtime,
    lb,
    registry,
    store,
    releases,
    finished,
    state,
    versions,
    apps: parsed.config.apps,
  };
}

const engines: RolloutEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.stop()));
});

async function deployed(w: ReturnType<typeof world>, version: string) {
  const d = await w.engine.startDeployment('web', { kind: 'deploy', version });
  return w.finished(d.id);
}

describe('RolloutEngine over in-memory ports', () => {
  it('deploys a fresh app: every instance in rotation and registered', async () => {
    const w = world();
    expect((await deployed(w, '1.0.0')).state).toBe('succeeded');
    expect(w.versions()).toEqual(['1.0.0', '1.0.0', '1.0.0']);
    expect(w.lb.inRotation()).toHaveLength(3);
    expect(w.registry.entries.size).toBe(3);
  });

  it('writes running together with the first steps: one write for both', async () => {
    const w = world();
    const d = await w.engine.startDeployment('web', { kind: 'deploy', version: '1.0.0' });
    expect(d.state).toBe('pending');
    await w.finished(d.id);
    const first = w.store.writes.find((r) => r.id === d.id);
    expect(first?.state).toBe('running');
    expect(first?.steps.filter((s) => s.kind === 'start').length).toBeGreaterThan(0);
  });

  it('replaces every instance of a new version, never below 3 in rotation', async () => {
    const w = world();
    await deployed(w, '1.0.0');
    let least = 3;
    const watch = setInterval(() => (least = Math.min(least, w.lb.inRotation().length)), 2);
    const done = await deployed(w, '1.1.0').finally(() => clearInterval(watch));
    expect(done.state).toBe('succeeded');
    expect(least).toBe(3);
    expect(w.versions()).toEqual(['1.1.0', '1.1.0', '1.1.0']);
    expect(done.steps.filter((s) => s.kind === 'retire' && s.state === 'succeeded')).toHaveLength(3);
    expect(done.steps.every((s) => s.seq > 0 && s.finishedAt)).toBe(true);
  });

  it('rolls back a version whose health fails, with image and env, and says why', async () => {
    const w = world({ strategy: { healthyDeadline: '500ms', minHealthyTime: '30ms' } });
    await deployed(w, '1.0.0');
    w.releases.env = { FAIL_HEALTH: '1' };
    const done = await deployed(w, '1.1.0');
    expect(done.state).toBe('rolled_back');
    expect(done.error?.reason).toBe('HealthyDeadlineExceeded');
    expect(done.error?.message).toContain('status 503');
    expect(w.versions()).toEqual(['1.0.0', '1.0.0', '1.0.0']);
    expect([...w.runtime.containers.values()].every((c) => c.env.FAIL_HEALTH === undefined)).toBe(true);
  });

  it('rolls back a version that crashes after it was ready, with its last log lines', async () => {
    // The first new instance is ready within a few 20 ms probes and crashes at 600 ms, while
    // the rollout still has at least two more minHealthyTime waits of 300 ms ahead of it.
    const w = world({ strategy: { minHealthyTime: '300ms' } });
    await deployed(w, '1.0.0');
    w.releases.env = { CRASH_AFTER_MS: '600' };
    const done = await deployed(w, '1.1.0');
    expect(done.state).toBe('rolled_back');
    // The crash is seen either way first: the container list shows it stopped, or the probe's
    // failures reach the threshold before the next list (on a busy machine, often).
    expect(done.error?.reason).toMatch(/^(InstanceCrashed|HealthCheckFailed)$/);
    expect(done.error?.logs?.[0]).toMatch(/^log of c-/);
    expect(w.versions()).toEqual(['1.0.0', '1.0.0', '1.0.0']);
  });

  it('pauses on failure when told to, and a cancel then rolls back', async () => {
    const w = world({ strategy: { onFailure: 'pause', healthyDeadline: '500ms', minHealthyTime: '30ms' } });
    await deployed(w, '1.0.0');
    w.releases.env = { FAIL_HEALTH: '1' };
    const d = await w.engine.startDeployment('web', { kind: 'deploy', version: '1.1.0' });
    await w.state(d.id, 'paused');
    expect(w.lb.inRotation()).toHaveLength(3);
    await w.engine.cancel('web', d.id);
    expect((await w.finished(d.id)).state).toBe('cancelled');
    expect(w.versions()).toEqual(['1.0.0', '1.0.0', '1.0.0']);
  });

  it('a paused deployment resumes and completes', async () => {
    const w = world({ strategy: { minHealthyTime: '200ms' } });
    await deployed(w, '1.0.0');
    const d = await w.engine.startDeployment('web', { kind: 'deploy', version: '1.1.0' });
    await w.engine
      .pause('web', d.id)
      .catch(() => w.state(d.id, 'running').then(() => w.engine.pause('web', d.id)));
    await w.state(d.id, 'paused');
    await expect(w.engine.pause('web', d.id)).rejects.toMatchObject({ code: 'InvalidDeploymentTransition' });
    await w.engine.resume('web', d.id);
    expect((await w.finished(d.id)).state).toBe('succeeded');
    expect(w.versions()).toEqual(['1.1.0', '1.1.0', '1.1.0']);
  });

  it('a canary waits for promotion, then the rollout completes', async () => {
    const w = world({ strategy: { canary: 1, minHealthyTime: '30ms' } });
    await deployed(w, '1.0.0');
    const d = await w.engine.startDeployment('web', { kind: 'deploy', version: '1.1.0' });
    await waitFor(
      async () =>
        (await w.engine.get('web', d.id)).status?.phase === 'AwaitingPromotion' ? true : undefined,
      {
        timeoutMs: 20_000,
      },
    );
    expect(w.versions()).toEqual(['1.0.0', '1.0.0', '1.0.0', '1.1.0']);
    await w.engine.promote('web', d.id);
    expect((await w.finished(d.id)).state).toBe('succeeded');
    expect(w.versions()).toEqual(['1.1.0', '1.1.0', '1.1.0']);
  });

  it('a cancelled canary rolls back without waiting for a promotion', async () => {
    const w = world({ strategy: { canary: 1, minHealthyTime: '30ms' } });
    await deployed(w, '1.0.0');
    const d = await w.engine.startDeployment('web', { kind: 'deploy', version: '1.1.0' });
    await waitFor(
      async () =>
        (await w.engine.get('web', d.id)).status?.phase === 'AwaitingPromotion' ? true : undefined,
      { timeoutMs: 20_000 },
    );
    await w.engine.cancel('web', d.id);
    expect((await w.finished(d.id)).state).toBe('cancelled');
    expect(w.versions()).toEqual(['1.0.0', '1.0.0', '1.0.0']);
  });

  it('autoPromoteAfter promotes the canary by itself', async () => {
    const w = world({ strategy: { canary: 1, autoPromoteAfter: '100ms', minHealthyTime: '30ms' } });
    await deployed(w, '1.0.0');
    const done = await deployed(w, '1.1.0');
    expect(done.state).toBe('succeeded');
    expect(done.promoted).toBe(true);
  });

  it('scales 3 → 5 → 2', async () => {
    const w = world();
    await deployed(w, '1.0.0');
    const up = await w.engine.startDeployment('web', { kind: 'scale', instances: 5 });
    expect((await w.finished(up.id)).state).toBe('succeeded');
    expect(w.lb.inRotation()).toHaveLength(5);
    const down = await w.engine.startDeployment('web', { kind: 'scale', instances: 2 });
    expect((await w.finished(down.id)).state).toBe('succeeded');
    expect(w.lb.inRotation()).toHaveLength(2);
    expect(w.runtime.containers.size).toBe(2);
  });

  it('refuses a second deployment while one is active', async () => {
    const w = world({ strategy: { minHealthyTime: '300ms' } });
    const first = await w.engine.startDeployment('web', { kind: 'deploy', version: '1.0.0' });
    await expect(w.engine.startDeployment('web', { kind: 'deploy', version: '1.1.0' })).rejects.toMatchObject(
      {
        code: 'DeploymentInProgress',
      },
    );
    await w.finished(first.id);
  });

  it('rolls back to the previous release on request', async () => {
    const w = world();
    await deployed(w, '1.0.0');
    await deployed(w, '1.1.0');
    const back = await w.engine.startDeployment('web', { kind: 'rollback' });
    expect(back.to.version).toBe('1.0.0');
    expect((await w.finished(back.id)).state).toBe('succeeded');
    expect(w.versions()).toEqual(['1.0.0', '1.0.0', '1.0.0']);
  });

  it('a second engine on the same store resumes a deployment the first left mid-way', async () => {
    const w = world({ strategy: { minHealthyTime: '150ms' } });
    await deployed(w, '1.0.0');
    const d = await w.engine.startDeployment('web', { kind: 'deploy', version: '1.1.0' });
    await waitFor(() => (w.versions().includes('1.1.0') ? true : undefined), { timeoutMs: 20_000 });
    await w.engine.stop();
    const second = new RolloutEngine({
      apps: () => w.apps,
      runtime: w.runtime,
      lb: w.lb,
      registry: w.registry,
      store: w.store,
      releases: w.releases,
      clock: { now: () => Date.now() },
      log: silentLogger(),
    });
    engines.push(second);
    expect((await second.resumeActive()).map((r) => r.id)).toEqual([d.id]);
    const done = await waitFor(
      async () => {
        const r = await second.get('web', d.id);
        return FINISHED.includes(r.state) ? r : undefined;
      },
      { timeoutMs: 20_000 },
    );
    expect(done.state).toBe('succeeded');
    expect(w.versions()).toEqual(['1.1.0', '1.1.0', '1.1.0']);
  });

  it('resumes a deployment when leadership comes back while its runner still winds down', async () => {
    const w = world();
    await deployed(w, '1.0.0');
    let release = () => {};
    w.runtime.hold = new Promise<void>((r) => {
      release = r;
    });
    const launches = w.runtime.calls.length;
    const d = await w.engine.startDeployment('web', { kind: 'deploy', version: '1.1.0' });
    await waitFor(() => (w.runtime.calls.length > launches ? true : undefined), {
      timeoutMs: 20_000,
      what: 'a launch in flight',
    });
    // Deposed: the runner is told to stop but its launch has not returned yet...
    const stopping = w.engine.stop();
    // ...and elected again before it has.
    const resumed = w.engine.resumeActive();
    w.runtime.hold = undefined;
    release();
    await stopping;
    expect((await resumed).map((r) => r.id)).toEqual([d.id]);
    expect((await w.finished(d.id)).state).toBe('succeeded');
    expect(w.versions()).toEqual(['1.1.0', '1.1.0', '1.1.0']);
  });

  it('a second engine registers again the instances the first put in rotation, whose entries its lease took', async () => {
    const w = world({ strategy: { minHealthyTime: '150ms' } });
    await deployed(w, '1.0.0');
    const d = await w.engine.startDeployment('web', { kind: 'deploy', version: '1.1.0' });
    await waitFor(
      () => ([...w.registry.entries.values()].some((e) => e.version === '1.1.0') ? true : undefined),
      { timeoutMs: 20_000, what: 'a 1.1.0 instance in rotation' },
    );
    await w.engine.stop();
    // The first daemon died: its lease expired and every entry it wrote went with it.
    w.registry.entries.clear();
    const second = new RolloutEngine({
      apps: () => w.apps,
      runtime: w.runtime,
      lb: w.lb,
      registry: w.registry,
      store: w.store,
      releases: w.releases,
      clock: { now: () => Date.now() },
      log: silentLogger(),
    });
    engines.push(second);
    await second.resumeActive();
    await waitFor(async () => (FINISHED.includes((await second.get('web', d.id)).state) ? true : undefined), {
      timeoutMs: 20_000,
    });
    const running = [...w.runtime.containers.values()].filter((c) => c.running).map((c) => c.instance);
    expect([...w.registry.entries.keys()].sort()).toEqual(running.sort());
    expect([...w.registry.entries.values()].map((e) => e.version)).toEqual(['1.1.0', '1.1.0', '1.1.0']);
  });

  it('a step the dead daemon left running is closed as abandoned and done again by the next', async () => {
    const w = world({ strategy: { minHealthyTime: '150ms' } });
    await deployed(w, '1.0.0');
    const d = await w.engine.startDeployment('web', { kind: 'deploy', version: '1.1.0' });
    await waitFor(() => (w.versions().includes('1.1.0') ? true : undefined), { timeoutMs: 20_000 });
    await w.engine.stop();
    // As a SIGKILL leaves it: a retire of an old instance written as begun, never finished.
    const old = [...w.runtime.containers.values()].find((c) => c.running && c.version === '1.0.0')!;
    const stored = w.store.deployments.get(d.id)!;
    const seq = (stored.record.steps.at(-1)?.seq ?? 0) + 1;
    const interrupted = {
      seq,
      kind: 'retire' as const,
      state: 'running' as const,
      instance: old.instance,
      node: 'local',
      attempt: 1,
      startedAt: new Date().toISOString(),
    };
    w.store.deployments.set(d.id, {
      record: { ...stored.record, steps: [...stored.record.steps, interrupted] },
      modRevision: stored.modRevision,
    });
    const second = new RolloutEngine({
      apps: () => w.apps,
      runtime: w.runtime,
      lb: w.lb,
      registry: w.registry,
      store: w.store,
      releases: w.releases,
      clock: { now: () => Date.now() },
      log: silentLogger(),
    });
    engines.push(second);
    await second.resumeActive();
    const done = await waitFor(
      async () => {
        const r = await second.get('web', d.id);
        return FINISHED.includes(r.state) ? r : undefined;
      },
      { timeoutMs: 20_000 },
    );
    expect(done.state).toBe('succeeded');
    expect(done.steps.filter((s) => s.state === 'running')).toEqual([]);
    expect(done.steps.find((s) => s.seq === seq)?.state).toBe('abandoned');
    expect(
      done.steps.some((s) => s.kind === 'retire' && s.instance === old.instance && s.state === 'succeeded'),
    ).toBe(true);
    expect(w.versions()).toEqual(['1.1.0', '1.1.0', '1.1.0']);
  });

  it('a runner stopped by a failed write resumes from the stored record', async () => {
    const w = world();
    await deployed(w, '1.0.0');
    const update = w.store.updateDeployment.bind(w.store);
    let failOnce = true;
    w.store.updateDeployment = async (record, opts) => {
      if (failOnce && record.steps.some((s) => s.kind === 'promote')) {
        failOnce = false;
        throw new Error('etcd went away');
      }
      return update(record, opts);
    };
    const done = await deployed(w, '1.1.0');
    expect(failOnce).toBe(false);
    expect(done.state).toBe('succeeded');
    expect(w.versions()).toEqual(['1.1.0', '1.1.0', '1.1.0']);
  });
});
