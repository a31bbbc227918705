import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GlintError } from '../../../src/errors/index.ts';
import { DEFAULT_TIMEOUTS, type LbStructure } from '../../../src/lb/index.ts';
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

const SUITE = 'lb-structural-reload';
let fx: LbFixture;
let webPort: number;
let sharedPort: number;
const backends: TestBackend[] = [];

beforeAll(async () => {
  webPort = await freePort();
  sharedPort = await freePort();
  fx = await startLbFixture(SUITE, [appModel('web', webPort, { hosts: ['web.test'] })], {
    sharedFrontend: { bind: `127.0.0.1:${sharedPort}` },
  });
  for (const name of ['a', 'b', 'c']) {
    const b = await startTestBackend(name);
    backends.push(b);
    await fx.lb.addInstance('web', { name: `web-${name}`, address: '127.0.0.1', port: b.port });
  }
});

afterAll(async () => {
  await removeTestContainers({ runId: testRunId(), suite: SUITE });
  await Promise.all(backends.map((b) => b.close()));
});

const structure = (change: Partial<LbStructure> = {}): LbStructure => ({ ...fx.lb.model, ...change });
const get = async (port: number, path = '/') => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
};
/** fetch does not let a caller set Host; node:http does. */
const getWithHost = (port: number, host: string) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/', headers: { host } }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
const config = () => readFileSync(`${fx.runDir}/haproxy.cfg`, 'utf8');
const stateOf = async (name: string) => (await fx.lb.runtime.serverStat('be_web', name))?.status;

describe('structural changes through a validated reload', () => {
  it('routes by Host header on the shared port and answers unknown hosts with a clear 404', async () => {
    expect((await getWithHost(sharedPort, 'web.test')).body).toMatch(/^served by [abc]$/);
    expect((await getWithHost(sharedPort, 'WEB.test:8000')).body).toMatch(/^served by [abc]$/);
    const unknown = await getWithHost(sharedPort, 'nobody.test');
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body)).toMatchObject({ error: { code: 'UnknownHost' } });
  });

  it('adds an app with a reload, keeps runtime members, and keeps the previous file', async () => {
    const apiPort = await freePort();
    const api = await startTestBackend('api');
    backends.push(api);
    const before = config();
    const procBefore = await fx.lb.master.showProc();
    const outcome = await fx.lb.applyStructure(
      structure({
        apps: [
          ...fx.lb.model.apps,
          appModel('api', apiPort, {
            servers: [{ name: 'api-1', address: '127.0.0.1', port: api.port, id: 1, state: 'ready' }],
          }),
        ],
      }),
    );
    expect(outcome.reloaded).toBe(true);
    const procAfter = await fx.lb.master.showProc();
    expect(procAfter.reloads).toBe(procBefore.reloads + 1);
    expect(procAfter.workers.map((w) => w.pid)).not.toEqual(procBefore.workers.map((w) => w.pid));
    expect(readFileSync(`${fx.runDir}/haproxy.cfg.prev`, 'utf8')).toBe(before);
    await waitFor(async () => ((await get(apiPort)).body === 'served by api' ? true : undefined), {
      what: 'api',
    });
    expect(fx.lb.model.apps.find((a) => a.name === 'web')!.servers.map((s) => s.name)).toEqual([
      'web-a',
      'web-b',
      'web-c',
    ]);
    expect((await get(webPort)).status).toBe(200);
  });

  it('skips the reload when the rendered file would not change', async () => {
    const reloads = (await fx.lb.master.showProc()).reloads;
    expect((await fx.lb.applyStructure(structure())).reloaded).toBe(false);
    expect((await fx.lb.master.showProc()).reloads).toBe(reloads);
  });

  it('keeps drain and maint states across a reload', async () => {
    await fx.lb.setServerState('web', 'web-b', 'drain');
    await fx.lb.setServerState('web', 'web-c', 'maint');
    await fx.lb.applyStructure(structure({ timeouts: { ...DEFAULT_TIMEOUTS, serverMs: 45_000 } }));
    expect(config()).toContain('timeout server 45s');
    expect(readFileSync(`${fx.runDir}/server-state`, 'utf8').split('\n')[0]).toBe('1');
    // Right after a reload a server shows `UP 1/2` until its next check confirms it.
    expect(await stateOf('web-a')).toMatch(/^UP/);
    expect(await stateOf('web-b')).toBe('DRAIN');
    expect(await stateOf('web-c')).toBe('MAINT');
    for (let i = 0; i < 6; i++) expect((await get(webPort)).body).toBe('served by a');
    await fx.lb.setServerState('web', 'web-b', 'ready');
    await fx.lb.setServerState('web', 'web-c', 'ready');
  });

  it('never installs a file haproxy -c rejects, and names the app and the reason', async () => {
    const before = config();
    const reloads = (await fx.lb.master.showProc()).reloads;
    const bad = structure({
      apps: [...fx.lb.model.apps, appModel('broken', 1, { frontend: { bind: 'nohost.invalid:8080' } })],
    });
    const error = await fx.lb.applyStructure(bad).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(GlintError);
    expect((error as GlintError).code).toBe('LbConfigInvalid');
    expect((error as GlintError).message).toMatch(/for app "broken".*nohost\.invalid/);
    expect(config()).toBe(before);
    expect((await fx.lb.master.showProc()).reloads).toBe(reloads);
    expect(fx.lb.model.apps.map((a) => a.name)).not.toContain('broken');
    expect((await get(webPort)).status).toBe(200);
  });

  it('restores the previous file when HAProxy cannot load a valid-looking one', async () => {
    const before = config();
    const bad = structure({
      apps: [...fx.lb.model.apps, appModel('unbindable', 1, { frontend: { bind: '192.0.2.1:8080' } })],
    });
    const error = await fx.lb.applyStructure(bad).catch((err: unknown) => err);
    expect((error as GlintError).code).toBe('LbReloadFailed');
    expect(config()).toBe(before);
    expect(fx.lb.model.apps.map((a) => a.name)).not.toContain('unbindable');
    expect((await get(webPort)).status).toBe(200);
    const retry = await fx.lb.applyStructure(
      structure({ timeouts: { ...DEFAULT_TIMEOUTS, serverMs: 50_000 } }),
    );
    expect(retry.reloaded).toBe(true);
  });

  it('holds back stopping an instance while an old worker still serves a request to it', async () => {
    // The request is held open by the backend until the reload is confirmed, however long that takes.
    const held = get(webPort, '/hold');
    await waitFor(() => (backends.some((b) => b.hits.some((h) => h.path === '/hold')) ? true : undefined), {
      what: 'the held request to reach a backend',
    });
    const target = backends.find((b) => b.hits.some((h) => h.path === '/hold'))!;
    const name = `web-${(await get(target.port)).body.replace('served by ', '')}`;
    await fx.lb.applyStructure(structure({ timeouts: { ...DEFAULT_TIMEOUTS, serverMs: 40_000 } }));
    expect((await fx.lb.master.showProc()).oldWorkers.length).toBeGreaterThan(0);
    expect(await fx.lb.canStopInstance('web', name)).toBe(false);
    target.release();
    expect(await held).toEqual({ status: 200, body: `served by ${name.slice(4)}` });
    await fx.lb.waitUntilStoppable('web', name, 10_000);
    expect(await fx.lb.canStopInstance('web', name)).toBe(true);
  });

  it('lists the members of a removed app so their containers wait for old workers', async () => {
    const outcome = await fx.lb.applyStructure(
      structure({ apps: fx.lb.model.apps.filter((a) => a.name !== 'api') }),
    );
    expect(outcome.removed).toEqual([{ app: 'api', name: 'api-1' }]);
    await fx.lb.waitUntilStoppable('api', 'api-1', 10_000);
    expect(config()).not.toContain('be_api');
  });
});
