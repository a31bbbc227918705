import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GlintError } from '../../../src/errors/index.ts';
import { HaproxyLoadBalancer, LocalBinaryValidator } from '../../../src/lb/index.ts';
import { parseServersState } from '../../../src/lb/parse-servers-state.ts';
import { removeTestContainers } from '../../support/cleanup.ts';
import { testRunId } from '../../support/labels.ts';
import { waitFor } from '../../support/wait-for.ts';
import {
  appModel,
  freePort,
  type LbFixture,
  startLbFixture,
  startTestBackend,
  type TestBackend,
} from './lb-fixture.ts';

const SUITE = 'lb-runtime-membership';
let fx: LbFixture;
let port: number;
const backends: TestBackend[] = [];

beforeAll(async () => {
  port = await freePort();
  fx = await startLbFixture(SUITE, [appModel('web', port, { drainTimeoutMs: 5_000 })]);
});

afterAll(async () => {
  await removeTestContainers({ runId: testRunId(), suite: SUITE });
  await Promise.all(backends.map((b) => b.close()));
});

const backend = async (name: string, healthy = true) => {
  const b = await startTestBackend(name, healthy);
  backends.push(b);
  return b;
};
const get = async (path = '/') => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
};

describe('runtime membership against a real HAProxy', () => {
  it('answers a clear JSON 503 while the app has no ready instance', async () => {
    const res = await get();
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'NoReadyInstance' } });
  });

  it('adds an instance staged in drain, puts it in rotation once its check is L7OK, and mirrors it in the file', async () => {
    const a = await backend('a');
    const server = await fx.lb.addInstance('web', { name: 'web-a', address: '127.0.0.1', port: a.port });
    expect(server).toMatchObject({ name: 'web-a', state: 'ready', id: 1 });
    const stat = await fx.lb.runtime.serverStat('be_web', 'web-a');
    expect(stat).toMatchObject({ status: 'UP', checkStatus: 'L7OK' });
    expect((await get()).body).toBe('served by a');
    expect(readFileSync(`${fx.runDir}/haproxy.cfg`, 'utf8')).toContain(
      `server web-a 127.0.0.1:${a.port} id 1 check inter 500ms downinter 25ms rise 2 fall 2 weight 1\n`,
    );
  });

  it('never sends traffic to an instance whose check fails, and takes it out again with the reason', async () => {
    const sick = await backend('sick', false);
    const adding = fx.lb
      .addInstance('web', { name: 'web-sick', address: '127.0.0.1', port: sick.port }, { timeoutMs: 20_000 })
      .catch((err: unknown) => err);
    // While it is staged: every status HAProxy shows for it, until its check has seen the 503.
    const seen = new Set<string>();
    await waitFor(
      async () => {
        const row = await fx.lb.runtime.serverStat('be_web', 'web-sick');
        if (row) seen.add(row.status);
        return row?.checkStatus === 'L7STS' && row.checkCode === '503' ? true : undefined;
      },
      { timeoutMs: 15_000, what: "HAProxy's check of web-sick to see its 503" },
    );
    const error = await adding;
    expect(error).toBeInstanceOf(GlintError);
    expect((error as GlintError).code).toBe('LbServerNotHealthy');
    expect((error as GlintError).message).toMatch(/web-sick of app web did not pass .*last result: /);
    expect([...seen].filter((status) => status.startsWith('UP'))).toEqual([]);
    for (let i = 0; i < 6; i++) expect((await get()).body).toBe('served by a');
    expect(sick.hits).toEqual([]);
    expect(await fx.lb.runtime.serverStat('be_web', 'web-sick')).toBeUndefined();
    expect(readFileSync(`${fx.runDir}/haproxy.cfg`, 'utf8')).not.toContain('web-sick');
  });

  it('retires an instance only after its in-flight request finished, then deletes it', async () => {
    const b = await backend('b');
    await fx.lb.addInstance('web', { name: 'web-b', address: '127.0.0.1', port: b.port });
    await waitFor(async () => ((await get()).body === 'served by b' ? true : undefined), {
      what: 'b in rotation',
    });
    // Round robin: keep asking for a slow page until one lands on b.
    let slowOnB: Promise<{ status: number; body: string }> | undefined;
    await waitFor(
      async () => {
        const hitsBefore = b.hits.length;
        const pending = get('/slow?ms=1500');
        await new Promise((r) => setTimeout(r, 100));
        if (b.hits.length > hitsBefore) slowOnB = pending;
        else await pending;
        return slowOnB ? true : undefined;
      },
      { what: 'a slow request on b' },
    );
    const retired = await fx.lb.retireServer('web', 'web-b');
    const finished = await slowOnB!;
    expect(finished).toEqual({ status: 200, body: 'served by b' });
    expect(retired).toMatchObject({ drained: true, alreadyGone: false });
    expect(retired.waitedMs).toBeGreaterThan(0);
    expect(await fx.lb.runtime.serverStat('be_web', 'web-b')).toBeUndefined();
    expect(fx.lb.model.apps[0]!.servers.map((s) => s.name)).toEqual(['web-a']);
    expect(readFileSync(`${fx.runDir}/haproxy.cfg`, 'utf8')).not.toContain('web-b');
  });

  it('cuts sessions still open when the drain timeout passes', async () => {
    const c = await backend('c');
    await fx.lb.addInstance('web', { name: 'web-c', address: '127.0.0.1', port: c.port });
    await fx.lb.setServerState('web', 'web-a', 'drain');
    const cut = get('/hold').catch((err: unknown) => err);
    await waitFor(() => (c.hits.length > 0 ? true : undefined), { what: 'the held request on c' });
    const retired = await fx.lb.retireServer('web', 'web-c', { drainTimeoutMs: 500 });
    expect(retired.drained).toBe(false);
    expect(await fx.lb.runtime.serverStat('be_web', 'web-c')).toBeUndefined();
    // c never answered it (its request is still held): the client saw the cut, not a reply.
    const outcome = await cut;
    c.release();
    expect(outcome).not.toEqual({ status: 200, body: 'served by c' });
    if (!(outcome instanceof Error))
      expect((outcome as { status: number }).status).toBeGreaterThanOrEqual(500);
    await fx.lb.setServerState('web', 'web-a', 'ready');
    expect((await get()).body).toBe('served by a');
  });

  it('refuses an instance name HAProxy could not take before touching HAProxy', async () => {
    const before = (await fx.lb.observeServers('web')).map((r) => r.server);
    await expect(
      fx.lb.addInstance('web', { name: 'bad name', address: '127.0.0.1', port: 1 }),
    ).rejects.toMatchObject({
      code: 'LbInvalidModel',
      message: expect.stringMatching(/app "web" servers\.bad name/),
    });
    expect((await fx.lb.observeServers('web')).map((r) => r.server)).toEqual(before);
  });

  it('treats retiring an instance it does not know as done', async () => {
    expect(await fx.lb.retireServer('web', 'never-added')).toEqual({
      drained: true,
      waitedMs: 0,
      alreadyGone: true,
    });
  });

  it('refuses an app it does not know, naming it', async () => {
    await expect(fx.lb.addInstance('ghost', { name: 'x', address: '127.0.0.1', port: 1 })).rejects.toThrow(
      /no app "ghost"/,
    );
  });

  it('adopts the running servers and their states after a restart, and writes the same file', async () => {
    const d = await backend('d');
    await fx.lb.addInstance('web', { name: 'web-d', address: '127.0.0.1', port: d.port });
    await fx.lb.setServerState('web', 'web-d', 'maint');
    const fileBefore = readFileSync(`${fx.runDir}/haproxy.cfg`, 'utf8');
    const restarted = new HaproxyLoadBalancer({
      model: { ...fx.lb.model, apps: fx.lb.model.apps.map((a) => ({ ...a, servers: [] })) },
      validator: new LocalBinaryValidator(),
    });
    const adopted = await restarted.adoptRunningServers();
    expect(adopted.map((s) => [s.name, s.state])).toEqual([
      ['web-a', 'ready'],
      ['web-d', 'maint'],
    ]);
    expect(restarted.model).toEqual(fx.lb.model);
    expect(readFileSync(`${fx.runDir}/haproxy.cfg`, 'utf8')).toBe(fileBefore);
    const observed = await restarted.observeServers('web');
    expect(observed.map((r) => [r.server, r.status])).toEqual([
      ['web-a', 'UP'],
      ['web-d', 'MAINT'],
    ]);
    await restarted.retireServer('web', 'web-d');
    expect(await restarted.runtime.serverStat('be_web', 'web-d')).toBeUndefined();
  });

  it('gives a new server an id no other daemon took: a follower that adopted earlier stages after the leader added servers', async () => {
    const follower = new HaproxyLoadBalancer({
      model: { ...fx.lb.model, apps: fx.lb.model.apps.map((a) => ({ ...a, servers: [] })) },
      validator: new LocalBinaryValidator(),
    });
    await follower.adoptRunningServers();
    // The leader goes on changing HAProxy; the follower's model does not see it.
    const e = await backend('e');
    const leaderAdded = await fx.lb.addInstance('web', { name: 'web-e', address: '127.0.0.1', port: e.port });
    const f = await backend('f');
    await follower.stage('web', { name: 'web-f', host: '127.0.0.1', port: f.port });
    const ids = new Map(
      parseServersState(await follower.runtime.showServersState())
        .filter((s) => s.backend === 'be_web')
        .map((s) => [s.name, s.id]),
    );
    expect(ids.get('web-e')).toBe(leaderAdded.id);
    expect(ids.get('web-f')).toBeGreaterThan(leaderAdded.id);
    // What the follower writes keeps the leader's server: a reload would not lose it.
    const file = readFileSync(`${fx.runDir}/haproxy.cfg`, 'utf8');
    expect(file).toContain(`server web-e 127.0.0.1:${e.port} id ${leaderAdded.id} `);
    expect(file).toContain('server web-f 127.0.0.1:');
    await follower.remove('web', 'web-f');
    await fx.lb.retireServer('web', 'web-e');
  });

  it('fails with a clear reason, and changes nothing, when HAProxy is unreachable', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'glint-lb-offline-'));
    const offline = new HaproxyLoadBalancer({
      model: { ...fx.lb.model, runDir },
      validator: new LocalBinaryValidator(),
    });
    const error = await offline
      .addInstance('web', { name: 'web-z', address: '127.0.0.1', port: 1 })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(GlintError);
    expect((error as GlintError).code).toBe('LbSocketUnreachable');
    expect((error as GlintError).message).toMatch(/check that HAProxy is running/);
    expect(offline.model.apps[0]!.servers.map((s) => s.name)).not.toContain('web-z');
    expect(existsSync(join(runDir, 'haproxy.cfg'))).toBe(false);
  });

  it('says which folder it could not write to when the run folder is missing', async () => {
    const lost = new HaproxyLoadBalancer({
      model: { ...fx.lb.model, runDir: '/nonexistent/glint-haproxy' },
      validator: new LocalBinaryValidator(),
    });
    await expect(
      lost.addInstance('web', { name: 'web-y', address: '127.0.0.1', port: 1 }),
    ).rejects.toMatchObject({
      code: 'LbConfigWriteFailed',
      message: expect.stringMatching(/\/nonexistent\/glint-haproxy.*run folder exists/),
    });
  });
});
