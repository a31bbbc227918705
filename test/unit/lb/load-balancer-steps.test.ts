import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_TIMEOUTS, HaproxyLoadBalancer, type LbApp, type LbModel } from '../../../src/lb/index.ts';
import type { LoadBalancer } from '../../../src/rollout/ports.ts';
import { waitFor } from '../../support/wait-for.ts';
import { acceptAll, FakeHaproxy } from './fake-haproxy.ts';

const timing = { intervalMs: 500, rise: 2, fall: 2, timeoutMs: 1_000 };
const app = (name: string, check: LbApp['check']): LbApp => ({
  name,
  hosts: [`${name}.test`],
  check,
  drainTimeoutMs: 1_000,
  servers: [],
});
const target = (name: string) => ({ name, host: '127.0.0.1', port: 18_000 + name.length });

let haproxy: FakeHaproxy;
let lb: HaproxyLoadBalancer;
let model: LbModel;

beforeEach(async () => {
  haproxy = await new FakeHaproxy().start();
  model = {
    runDir: haproxy.runDir,
    hardStopAfterMs: 1_000,
    timeouts: DEFAULT_TIMEOUTS,
    apps: [
      app('web', { type: 'http', path: '/healthz', ...timing }),
      app('queue', { type: 'tcp', ...timing }),
    ],
    sharedFrontend: { bind: '127.0.0.1:1' },
  };
  lb = new HaproxyLoadBalancer({ model, validator: acceptAll, pollIntervalMs: 10 });
  await lb.writeInitialConfig();
});

afterEach(() => haproxy.close());

const file = () => readFileSync(join(haproxy.runDir, 'haproxy.cfg'), 'utf8');
const sent = (prefix: string) => haproxy.commands.filter((c) => c.startsWith(prefix));
const modelServers = (on: HaproxyLoadBalancer, appName: string) =>
  on.model.apps.find((a) => a.name === appName)!.servers.map((s) => [s.name, s.state]);
/** A glint restarted without adopting anything: its model knows no server. */
const restarted = () => new HaproxyLoadBalancer({ model, validator: acceptAll, pollIntervalMs: 10 });

it('fits the rollout engine’s LoadBalancer port', () => {
  const port: LoadBalancer = lb;
  expect(typeof port.stage).toBe('function');
});

describe('stage', () => {
  it('adds the server once, in drain with its check on, when called twice', async () => {
    await lb.stage('web', target('web-a'));
    await lb.stage('web', target('web-a'));
    expect(sent('add server')).toEqual([
      `add server be_web/web-a 127.0.0.1:${target('web-a').port} id 1 check inter 500ms downinter 25ms rise 2 fall 2 weight 1`,
    ]);
    expect(sent('enable health')).toEqual(['enable health be_web/web-a']);
    expect(haproxy.servers.map((s) => [s.name, s.state])).toEqual([['web-a', 'drain']]);
    expect(modelServers(lb, 'web')).toEqual([['web-a', 'drain']]);
    expect(file().match(/server web-a /g)).toHaveLength(1);
  });

  it('brings a server left in maint (a stage cut short by a crash) to drain with its check on', async () => {
    haproxy.servers.push({
      backend: 'be_web',
      name: 'web-a',
      address: '127.0.0.1',
      port: 18005,
      id: 4,
      state: 'maint',
    });
    await restarted().stage('web', target('web-a'));
    expect(sent('add server')).toEqual([]);
    expect(sent('enable health')).toEqual(['enable health be_web/web-a']);
    expect(haproxy.servers[0]!.state).toBe('drain');
  });

  it('leaves a server that is already in rotation alone', async () => {
    await lb.stage('web', target('web-a'));
    await lb.promote('web', 'web-a');
    const before = haproxy.commands.length;
    await restarted().stage('web', target('web-a'));
    expect(haproxy.commands.slice(before)).toEqual(['show servers state be_web']);
    expect(haproxy.servers[0]!.state).toBe('ready');
  });

  it('adds again a server the model remembers but HAProxy lost, with a fresh id', async () => {
    await lb.stage('web', target('web-a'));
    haproxy.servers.splice(0);
    await lb.stage('web', target('web-a'));
    expect(sent('add server')).toHaveLength(2);
    expect(sent('add server')[1]).toContain('id 2 ');
    expect(modelServers(lb, 'web')).toEqual([['web-a', 'drain']]);
  });
});

describe('promote', () => {
  it('sets ready once when called twice', async () => {
    await lb.stage('web', target('web-a'));
    await lb.promote('web', 'web-a');
    await lb.promote('web', 'web-a');
    expect(sent('set server be_web/web-a state ready')).toHaveLength(1);
    expect(modelServers(lb, 'web')).toEqual([['web-a', 'ready']]);
  });

  it('promotes a server a restarted glint did not add, and writes it into the file', async () => {
    await lb.stage('web', target('web-a'));
    const again = restarted();
    await again.promote('web', 'web-a');
    expect(haproxy.servers[0]!.state).toBe('ready');
    expect(modelServers(again, 'web')).toEqual([['web-a', 'ready']]);
    expect(file()).toMatch(/server web-a 127\.0\.0\.1:\d+ id 1 /);
  });

  it('refuses a server HAProxy does not have, naming it', async () => {
    await expect(lb.promote('web', 'ghost')).rejects.toMatchObject({
      code: 'LbUnknownInstance',
      message: expect.stringMatching(/no instance ghost.*stage it first/),
    });
  });
});

describe('drain', () => {
  it('is done for a server HAProxy does not have', async () => {
    expect(await lb.drain('web', 'ghost', 1_000)).toEqual({ drained: true });
    expect(sent('set server')).toEqual([]);
  });

  it('waits for the sessions to end, and says when they did not in time', async () => {
    await lb.stage('web', target('web-a'));
    await lb.promote('web', 'web-a');
    haproxy.servers[0]!.sessions = 2;
    expect(await lb.drain('web', 'web-a', 100)).toEqual({ drained: false });
    expect(haproxy.servers[0]!.state).toBe('drain');
    const draining = lb.drain('web', 'web-a', 10_000);
    haproxy.servers[0]!.sessions = 0;
    expect(await draining).toEqual({ drained: true });
    // One from staging, one from the first drain; the second found it draining already.
    expect(sent('set server be_web/web-a state drain')).toHaveLength(2);
  });

  it('is drained when the server goes while it waits', async () => {
    await lb.stage('web', target('web-a'));
    haproxy.servers[0]!.sessions = 1;
    const draining = lb.drain('web', 'web-a', 10_000);
    await new Promise((r) => setTimeout(r, 30));
    haproxy.servers.splice(0);
    expect(await draining).toEqual({ drained: true });
  });

  it('stops waiting when its signal aborts', async () => {
    await lb.stage('web', target('web-a'));
    haproxy.servers[0]!.sessions = 1;
    const abort = new AbortController();
    const draining = lb.drain('web', 'web-a', 10_000, { signal: abort.signal });
    abort.abort(new Error('daemon stopping'));
    await expect(draining).rejects.toThrow();
  });
});

describe('remove', () => {
  it('puts the server in maint, cuts its sessions, deletes it and drops it from the file', async () => {
    await lb.stage('web', target('web-a'));
    await lb.promote('web', 'web-a');
    await lb.remove('web', 'web-a');
    expect(sent('master: show proc').length).toBeGreaterThan(0);
    expect(sent('set server be_web/web-a state maint')).toHaveLength(1);
    expect(sent('shutdown sessions server be_web/web-a')).toHaveLength(1);
    expect(sent('del server')).toEqual(['del server be_web/web-a']);
    expect(await lb.servers('web')).toEqual([]);
    expect(file()).not.toContain('web-a');
  });

  it('is done for a server HAProxy does not have, when called again', async () => {
    await lb.stage('web', target('web-a'));
    await lb.remove('web', 'web-a');
    await lb.remove('web', 'web-a');
    await lb.remove('web', 'never-added');
    expect(sent('del server')).toHaveLength(1);
  });

  it('is done when HAProxy says the server is already gone as it deletes', async () => {
    await lb.stage('web', target('web-a'));
    haproxy.override = (c) => (c.startsWith('del server') ? '\n[3]: No such server.\n\n' : undefined);
    await lb.remove('web', 'web-a');
    expect(modelServers(lb, 'web')).toEqual([]);
  });
});

describe('servers', () => {
  it('lists what HAProxy has, even servers this glint did not add, and nothing else', async () => {
    await lb.stage('web', target('web-a'));
    await lb.promote('web', 'web-a');
    await lb.stage('web', target('web-b'));
    haproxy.servers[1]!.sessions = 3;
    expect(await restarted().servers('web')).toEqual([
      { name: 'web-a', state: 'ready', checkPassed: true, checkStatus: 'L7OK', sessions: 0 },
      { name: 'web-b', state: 'drain', checkPassed: true, checkStatus: 'L7OK', sessions: 3 },
    ]);
    expect(await lb.servers('queue')).toEqual([]);
  });

  it('asks HAProxy for the one backend, and lists nothing while HAProxy does not have it yet', async () => {
    await lb.stage('web', target('web-a'));
    const before = haproxy.commands.length;
    expect((await lb.servers('web')).map((s) => s.name)).toEqual(['web-a']);
    expect(haproxy.commands.slice(before).sort()).toEqual([
      'show servers state be_web',
      'show stat be_web 4 -1',
    ]);
    haproxy.missingBackends.add('be_web');
    expect(await lb.servers('web')).toEqual([]);
  });

  it('counts the check passed by the result the app’s check type gives: L7OK for HTTP, L4OK for TCP', async () => {
    await lb.stage('web', target('web-a'));
    await lb.stage('queue', target('queue-a'));
    const status = (name: string, checkStatus: string) => {
      haproxy.servers.find((s) => s.name === name)!.checkStatus = checkStatus;
    };
    const passed = async (appName: string) => (await lb.servers(appName))[0]!.checkPassed;
    status('queue-a', 'L4OK');
    expect(await passed('queue')).toBe(true);
    status('queue-a', 'L4CON');
    expect(await passed('queue')).toBe(false);
    status('web-a', 'L4OK');
    expect(await passed('web')).toBe(false);
    status('web-a', 'L7STS');
    expect(await passed('web')).toBe(false);
    status('web-a', 'L7OK');
    expect(await passed('web')).toBe(true);
  });

  it('does not count the check passed for a server in maint', async () => {
    await lb.stage('web', target('web-a'));
    await lb.setServerState('web', 'web-a', 'maint');
    expect(await lb.servers('web')).toMatchObject([{ name: 'web-a', state: 'maint', checkPassed: false }]);
  });
});

describe('remove and old workers', () => {
  it('resolves only once no old worker of unknown history (a restarted glint knows none) is left', async () => {
    await lb.stage('web', target('web-a'));
    haproxy.oldWorkers = [8400];
    let resolved = false;
    const removing = restarted()
      .remove('web', 'web-a')
      .then(() => {
        resolved = true;
      });
    await waitFor(() => (sent('del server').length > 0 ? true : undefined));
    await waitFor(() => (sent('master: show proc').length >= 2 ? true : undefined));
    expect(resolved).toBe(false);
    haproxy.oldWorkers = [];
    await removing;
    expect(resolved).toBe(true);
  });
});
