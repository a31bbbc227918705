import { afterEach, describe, expect, it, vi } from 'vitest';
import { readEvents } from '../../support/sse-reader.ts';
import { waitFor } from '../../support/wait-for.ts';
import { type ApiWorld, startApiWorld, TOKENS } from './api-world.ts';

// Generous: each test runs real rollouts (in memory) and the suite must pass on a busy machine.
vi.setConfig({ testTimeout: 60_000 });

const worlds: ApiWorld[] = [];
afterEach(async () => {
  await Promise.all(worlds.splice(0).map((w) => w.close()));
});

async function world(opts: Parameters<typeof startApiWorld>[0] = {}) {
  const w = await startApiWorld(opts);
  worlds.push(w);
  return w;
}

/** Deploys through the API and waits for the end with `?wait=`. */
async function deployAndWait(w: ApiWorld, body: unknown) {
  const started = await w.call('POST', '/v1/apps/web/deployments', { token: TOKENS.deploy, body });
  expect(started.status).toBe(202);
  const done = await w.call('GET', `/v1/deployments/${started.json.id}?wait=30`, { token: TOKENS.read });
  expect(done.status).toBe(200);
  return done.json;
}

/** A deploy with one canary over a running version: it stays active until promoted or cancelled. */
async function heldDeployment(w: ApiWorld, version = '1.1.0') {
  await deployAndWait(w, { version: '1.0.0' });
  const res = await w.call('POST', '/v1/apps/web/deployments', {
    token: TOKENS.deploy,
    body: { version, strategy: { canary: 1 } },
  });
  expect(res.status).toBe(202);
  await waitFor(
    async () =>
      (await w.engine.get('web', res.json.id)).status?.phase === 'AwaitingPromotion' ? true : undefined,
    { timeoutMs: 20_000, what: 'the canary to await promotion' },
  );
  return res.json.id as string;
}

describe('auth', () => {
  it('answers 401 without a token or with an unknown one, and names the scheme', async () => {
    const w = await world();
    for (const token of [null, 'not-a-token']) {
      const res = await w.call('GET', '/v1/apps', { token });
      expect(res.status).toBe(401);
      expect(res.json.error.code).toBe('Unauthorized');
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
  });

  it('answers 403 when the role may not do it, and changes nothing', async () => {
    const w = await world();
    const res = await w.call('POST', '/v1/apps/web/deployments', {
      token: TOKENS.read,
      body: { version: '1.1.0' },
    });
    expect(res.status).toBe(403);
    expect(res.json.error).toMatchObject({ code: 'Forbidden', details: { role: 'read', needs: 'deploy' } });
    expect(w.store.deployments.size).toBe(0);
  });

  it('lets a read token read and leaves /healthz and /readyz open', async () => {
    const w = await world();
    expect((await w.call('GET', '/v1/apps', { token: TOKENS.read })).status).toBe(200);
    expect((await w.call('GET', '/v1/deployments', { token: TOKENS.read })).status).toBe(200);
    expect((await w.call('GET', '/healthz', { token: null })).status).toBe(200);
    expect((await w.call('GET', '/readyz', { token: null })).status).toBe(200);
  });

  it('serves /openapi.json to a token, generated from the request schemas', async () => {
    const w = await world();
    expect((await w.call('GET', '/openapi.json', { token: null })).status).toBe(401);
    const res = await w.call('GET', '/openapi.json', { token: TOKENS.read });
    expect(res.status).toBe(200);
    expect(res.json.openapi).toBe('3.1.0');
    const deploy = res.json.paths['/v1/apps/{app}/deployments'].post;
    const schema = deploy.requestBody.content['application/json'].schema;
    expect(Object.keys(schema.properties)).toEqual(['version', 'image', 'digest', 'strategy', 'reason']);
    expect(schema.additionalProperties).toBe(false);
    expect(
      res.json.paths['/v1/apps/{app}/scale'].put.requestBody.content['application/json'].schema.required,
    ).toEqual(['instances']);
  });
});

describe('deploying', () => {
  it('starts with 202 and a Location, and ?wait= answers once it succeeded', async () => {
    const w = await world();
    const res = await w.call('POST', '/v1/apps/web/deployments', {
      token: TOKENS.deploy,
      body: { version: '1.1.0', reason: 'release 42' },
    });
    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toBe(`/v1/deployments/${res.json.id}`);
    expect(res.json).toMatchObject({ app: 'web', kind: 'deploy', to: { version: '1.1.0' } });
    expect(res.json.cause).toBe('deploy 1.1.0 requested by ci through the API: release 42');
    const done = await w.call('GET', `${res.headers.get('location')}?wait=30`, { token: TOKENS.read });
    expect(done.json.state).toBe('succeeded');

    const apps = await w.call('GET', '/v1/apps', { token: TOKENS.read });
    expect(apps.json.apps[0]).toMatchObject({
      name: 'web',
      declared: { version: '1.0.0', instances: 2 },
      running: { version: '1.1.0', digest: 'sha256:1.1.0', deploymentId: res.json.id },
      instances: { wanted: 2, ready: 2 },
      activeDeployment: null,
      rotation: { last: null, next: null },
    });
    const app = await w.call('GET', '/v1/apps/web', { token: TOKENS.read });
    expect(app.json.instances.list).toHaveLength(2);
    for (const i of app.json.instances.list) {
      expect(i).toMatchObject({ node: 'local', version: '1.1.0', digest: 'sha256:1.1.0', health: 'ready' });
      expect(i.address).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(typeof i.envFingerprint).toBe('string');
    }
    expect(app.json.lastVersions.map((v: { version: string }) => v.version)).toEqual(['1.1.0']);
  });

  it('takes strategy overrides for this deployment only', async () => {
    const w = await world();
    const done = await deployAndWait(w, {
      version: '1.1.0',
      strategy: { maxSurge: 2, minHealthyTime: '10ms' },
    });
    expect(done.state).toBe('succeeded');
    expect(done.strategy).toMatchObject({ maxSurge: 2, minHealthyTime: 10 });
  });

  it('deploys an image of the app repository by its tag', async () => {
    const w = await world();
    const done = await deployAndWait(w, { image: '127.0.0.1:5000/demo-app:1.2.0' });
    expect(done).toMatchObject({ state: 'succeeded', to: { version: '1.2.0' } });
  });

  it('answers 409 with the active deployment while one runs', async () => {
    const w = await world();
    const first = await heldDeployment(w);
    const res = await w.call('POST', '/v1/apps/web/deployments', {
      token: TOKENS.deploy,
      body: { version: '1.2.0' },
    });
    expect(res.status).toBe(409);
    expect(res.json.error).toMatchObject({
      code: 'DeploymentInProgress',
      details: { activeDeploymentId: first },
    });
    expect(res.json.error.message).toContain(first);
    expect(w.store.deployments.size).toBe(2);
  });

  it('gives a retry with the same Idempotency-Key the deployment it started', async () => {
    const w = await world();
    const headers = { 'idempotency-key': 'ci-run-17' };
    const body = { version: '1.1.0' };
    const [a, b] = await Promise.all([
      w.call('POST', '/v1/apps/web/deployments', { token: TOKENS.deploy, body, headers }),
      w.call('POST', '/v1/apps/web/deployments', { token: TOKENS.deploy, body, headers }),
    ]);
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(a.json.id).toBe(b.json.id);
    await w.call('GET', `/v1/deployments/${a.json.id}?wait=30`);
    const later = await w.call('POST', '/v1/apps/web/deployments', { token: TOKENS.deploy, body, headers });
    expect(later.status).toBe(202);
    expect(later.json.id).toBe(a.json.id);
    expect(later.headers.get('idempotent-replayed')).toBe('true');
    expect(w.store.deployments.size).toBe(1);
    const reused = await w.call('PUT', '/v1/apps/web/scale', {
      token: TOKENS.deploy,
      body: { instances: 3 },
      headers,
    });
    expect(reused.status).toBe(409);
    expect(reused.json.error.code).toBe('IdempotencyKeyReused');
  });

  it("answers 422 with the resolver's reason for a version that does not resolve, and stores nothing", async () => {
    const w = await world();
    const res = await w.call('POST', '/v1/apps/web/deployments', {
      token: TOKENS.deploy,
      body: { version: '9.9.9' },
    });
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe('TagNotFound');
    expect(res.json.error.message).toContain('newest stamped tags: 1.2.0, 1.1.0, 1.0.0');
    expect(w.store.deployments.size).toBe(0);
  });

  it("answers 422 for an image of another repository than the app's", async () => {
    const w = await world();
    const res = await w.call('POST', '/v1/apps/web/deployments', {
      token: TOKENS.deploy,
      body: { image: 'docker.io/library/alpine:3.20' },
    });
    expect(res.status).toBe(422);
    expect(res.json.error).toMatchObject({
      code: 'ImageNotAllowed',
      details: { allowed: ['127.0.0.1:5000/demo-app'] },
    });
    expect(w.store.deployments.size).toBe(0);
  });

  it('answers 404 for an app that is not declared and for a deployment that does not exist', async () => {
    const w = await world();
    const app = await w.call('POST', '/v1/apps/nope/deployments', {
      token: TOKENS.deploy,
      body: { version: '1.0.0' },
    });
    expect(app.status).toBe(404);
    expect(app.json.error.code).toBe('UnknownApp');
    const d = await w.call('GET', '/v1/deployments/web-20260101T000000-abcd');
    expect(d.status).toBe(404);
    expect(d.json.error.code).toBe('DeploymentNotFound');
    const ctl = await w.call('POST', '/v1/deployments/web-20260101T000000-abcd/cancel', {
      token: TOKENS.deploy,
    });
    expect(ctl.status).toBe(404);
  });

  it('shows env by names and fingerprint only, never values', async () => {
    const w = await world();
    w.releases.env = { GREETING: 'value-that-must-not-show' };
    const done = await deployAndWait(w, { version: '1.1.0' });
    expect(done.to.env.names).toEqual(['GREETING']);
    for (const path of ['/v1/apps/web', '/v1/deployments', `/v1/deployments/${done.id}`, '/v1/apps'])
      expect((await w.call('GET', path)).text).not.toContain('value-that-must-not-show');
  });
});

describe('other kinds and controls', () => {
  it('rolls back to the previous version, or to a named one it ran', async () => {
    const w = await world();
    await deployAndWait(w, { version: '1.0.0' });
    await deployAndWait(w, { version: '1.1.0' });
    const back = await w.call('POST', '/v1/apps/web/rollback', { token: TOKENS.deploy });
    expect(back.status).toBe(202);
    expect(back.json).toMatchObject({ kind: 'rollback', to: { version: '1.0.0' } });
    expect((await w.call('GET', `/v1/deployments/${back.json.id}?wait=30`)).json.state).toBe('succeeded');
    const named = await w.call('POST', '/v1/apps/web/rollback', {
      token: TOKENS.deploy,
      body: { version: '1.1.0' },
    });
    expect(named.json).toMatchObject({ kind: 'rollback', to: { version: '1.1.0' } });
    expect((await w.call('GET', `/v1/deployments/${named.json.id}?wait=30`)).json.state).toBe('succeeded');
    const never = await w.call('POST', '/v1/apps/web/rollback', {
      token: TOKENS.deploy,
      body: { version: '1.2.0' },
    });
    expect(never.status).toBe(422);
    expect(never.json.error.code).toBe('UnknownVersion');
  });

  it('scales, and the app then wants the new count', async () => {
    const w = await world();
    await deployAndWait(w, { version: '1.0.0' });
    const res = await w.call('PUT', '/v1/apps/web/scale', { token: TOKENS.deploy, body: { instances: 3 } });
    expect(res.status).toBe(202);
    expect((await w.call('GET', `/v1/deployments/${res.json.id}?wait=30`)).json.state).toBe('succeeded');
    const apps = await w.call('GET', '/v1/apps');
    expect(apps.json.apps[0].instances).toEqual({ wanted: 3, ready: 3 });
  });

  it('rotates, and the app shows it as its last rotation', async () => {
    const w = await world();
    await deployAndWait(w, { version: '1.0.0' });
    const res = await w.call('POST', '/v1/apps/web/rotations', {
      token: TOKENS.deploy,
      body: { reason: 'weekly' },
    });
    expect(res.status).toBe(202);
    expect((await w.call('GET', `/v1/deployments/${res.json.id}?wait=30`)).json.state).toBe('succeeded');
    const apps = await w.call('GET', '/v1/apps');
    expect(apps.json.apps[0].rotation).toMatchObject({
      last: { deploymentId: res.json.id, state: 'succeeded' },
    });
  });

  it('promotes a canary through the API', async () => {
    const w = await world();
    const id = await heldDeployment(w);
    const res = await w.call('POST', `/v1/deployments/${id}/promote`, { token: TOKENS.deploy });
    expect(res.status).toBe(200);
    expect(res.json.promoted).toBe(true);
    expect((await w.call('GET', `/v1/deployments/${id}?wait=30`)).json.state).toBe('succeeded');
  });

  it('pauses, resumes and cancels, and refuses a control the state does not accept', async () => {
    const w = await world();
    const id = await heldDeployment(w);
    expect((await w.call('POST', `/v1/deployments/${id}/pause`, { token: TOKENS.deploy })).json.state).toBe(
      'paused',
    );
    const twice = await w.call('POST', `/v1/deployments/${id}/pause`, { token: TOKENS.deploy });
    expect(twice.status).toBe(409);
    expect((await w.call('POST', `/v1/deployments/${id}/resume`, { token: TOKENS.deploy })).json.state).toBe(
      'running',
    );
    expect((await w.call('POST', `/v1/deployments/${id}/cancel`, { token: TOKENS.deploy })).status).toBe(200);
    expect((await w.call('GET', `/v1/deployments/${id}?wait=30`)).json.state).toBe('cancelled');
  });

  it('answers ?wait= with the running record when the wait runs out first', async () => {
    const w = await world();
    const id = await heldDeployment(w);
    const res = await w.call('GET', `/v1/deployments/${id}?wait=0.2`);
    expect(res.status).toBe(200);
    expect(res.json.state).toBe('running');
  });

  it('lists deployments newest first, by state, with a limit', async () => {
    const w = await world();
    const a = await deployAndWait(w, { version: '1.0.0' });
    const b = await deployAndWait(w, { version: '1.1.0' });
    const all = await w.call('GET', '/v1/deployments?app=web');
    expect(all.json.deployments.map((d: { id: string }) => d.id)).toEqual([b.id, a.id]);
    expect((await w.call('GET', '/v1/deployments?limit=1')).json.deployments).toHaveLength(1);
    expect((await w.call('GET', '/v1/deployments?state=running')).json.deployments).toEqual([]);
    expect((await w.call('GET', '/v1/deployments?app=nope')).status).toBe(404);
  });
});

describe('GET /v1/events', () => {
  it('streams deployment and step events with ids, filtered by type and app', async () => {
    const w = await world();
    const res = await fetch(`${w.url}/v1/events?types=deployment&app=web`, {
      headers: { authorization: `Bearer ${TOKENS.read}` },
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const started = await w.call('POST', '/v1/apps/web/deployments', {
      token: TOKENS.deploy,
      body: { version: '1.1.0' },
    });
    const { events } = await readEvents(res, (evs) => evs.some((e) => e.event === 'deployment:finished'));
    expect(events[0]).toMatchObject({ event: 'deployment:started' });
    expect(events.every((e) => e.event.startsWith('deployment:'))).toBe(true);
    expect(events.every((e) => JSON.parse(e.data).id === started.json.id)).toBe(true);
    expect(JSON.parse(events.at(-1)!.data).state).toBe('succeeded');
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  });

  it('streams config changes by their namespace and app, key names only', async () => {
    const w = await world();
    const res = await fetch(`${w.url}/v1/events?types=config&app=web`, {
      headers: { authorization: `Bearer ${TOKENS.read}` },
    });
    const change = {
      at: '2026-01-01T00:00:00.000Z',
      revision: 9,
      keys: ['secrets/web/TOKEN'],
      outcome: 'recorded' as const,
    };
    w.engine.events.emit('config:changed', { app: 'other', ...change });
    w.engine.events.emit('instance:failed', { app: 'web', why: 'exited' });
    w.engine.events.emit('config:changed', { app: 'web', ...change });
    const { events } = await readEvents(res, (evs) => evs.length >= 1);
    expect(events.map((e) => e.event)).toEqual(['config:changed']);
    expect(JSON.parse(events[0]!.data)).toEqual({ app: 'web', ...change });
  });

  it('streams what the reconciler and the rotations tell, by namespace', async () => {
    const w = await world();
    const res = await fetch(`${w.url}/v1/events?types=instance,rotation`, {
      headers: { authorization: `Bearer ${TOKENS.read}` },
    });
    w.engine.events.emit('instance:failed', {
      app: 'web',
      instance: 'a1',
      why: 'instance a1 stopped: exited with code 137',
    });
    w.engine.events.emit('instance:backoff', {
      app: 'web',
      why: 'crash loop',
      until: '2026-01-01T00:00:01Z',
      streak: 3,
    });
    w.engine.events.emit('rotation:skipped', { app: 'web', reason: 'DeploymentInProgress' });
    const { events } = await readEvents(res, (evs) => evs.length >= 3);
    expect(events.map((e) => e.event)).toEqual(['instance:failed', 'instance:backoff', 'rotation:skipped']);
    expect(JSON.parse(events[0]!.data)).toMatchObject({ instance: 'a1', why: /exited with code 137/ });
  });

  it('resumes after Last-Event-ID with the events the client missed', async () => {
    const w = await world();
    const first = await fetch(`${w.url}/v1/events`, { headers: { authorization: `Bearer ${TOKENS.read}` } });
    await w.call('POST', '/v1/apps/web/deployments', { token: TOKENS.deploy, body: { version: '1.1.0' } });
    const seen = await readEvents(first, (evs) => evs.some((e) => e.event === 'deployment:finished'));
    const all = seen.events;
    const cut = Math.floor(all.length / 2);
    const resumed = await fetch(`${w.url}/v1/events`, {
      headers: { authorization: `Bearer ${TOKENS.read}`, 'last-event-id': all[cut]!.id! },
    });
    const replay = await readEvents(resumed, (evs) => evs.length >= all.length - cut - 1);
    expect(replay.events.map((e) => e.id)).toEqual(all.slice(cut + 1).map((e) => e.id));
  });

  it('says so when the events after Last-Event-ID are gone', async () => {
    const w = await world();
    const res = await fetch(`${w.url}/v1/events`, {
      headers: { authorization: `Bearer ${TOKENS.read}`, 'last-event-id': 'deadbeef-12' },
    });
    const { events } = await readEvents(res, (evs) => evs.length >= 1);
    expect(events[0]!.event).toBe('stream:gap');
  });

  it('ends open streams when the daemon shuts down, so closing does not hang', async () => {
    const w = await startApiWorld();
    const res = await fetch(`${w.url}/v1/events`, { headers: { authorization: `Bearer ${TOKENS.read}` } });
    const reading = readEvents(res, () => false);
    const id = await heldDeployment(w);
    const held = w.call('GET', `/v1/deployments/${id}?wait=300`);
    await waitFor(() => (w.waiting() > 0 ? true : undefined), { what: 'the long poll to wait' });
    await w.close();
    expect((await reading).ended).toBe(true);
    expect((await held).json.state).toBe('running');
  });
});
