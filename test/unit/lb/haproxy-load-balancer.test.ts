import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TransientError } from '../../../src/errors/index.ts';
import { DEFAULT_TIMEOUTS, HaproxyLoadBalancer, type LbApp, type LbModel } from '../../../src/lb/index.ts';
import { waitFor } from '../../support/wait-for.ts';
import { acceptAll, FakeHaproxy } from './fake-haproxy.ts';

const check = {
  type: 'http' as const,
  path: '/healthz',
  intervalMs: 500,
  rise: 2,
  fall: 2,
  timeoutMs: 1_000,
};
const app = (name: string): LbApp => ({
  name,
  hosts: [`${name}.test`],
  check,
  drainTimeoutMs: 1_000,
  servers: [],
});
const instance = (name: string) => ({ name, address: '127.0.0.1', port: 18_000 + name.length });

let haproxy: FakeHaproxy;
let lb: HaproxyLoadBalancer;

beforeEach(async () => {
  haproxy = await new FakeHaproxy().start();
  const model: LbModel = {
    runDir: haproxy.runDir,
    hardStopAfterMs: 1_000,
    timeouts: DEFAULT_TIMEOUTS,
    apps: [app('web'), app('api')],
    sharedFrontend: { bind: '127.0.0.1:1' },
  };
  lb = new HaproxyLoadBalancer({ model, validator: acceptAll, pollIntervalMs: 10 });
  await lb.writeInitialConfig();
});

afterEach(() => haproxy.close());

const servers = (appName: string) => lb.model.apps.find((a) => a.name === appName)!.servers;

describe('an empty or cut answer is never read as "no servers"', () => {
  it('retiring a live server whose stat answer was cut fails instead of calling it gone', async () => {
    await lb.addInstance('web', instance('web-a'));
    haproxy.override = (c) =>
      c.startsWith('show stat') ? '\n# pxname,svname,status\nbe_web,web-' : undefined;
    await expect(lb.retireServer('web', 'web-a')).rejects.toBeInstanceOf(TransientError);
    expect(servers('web').map((s) => s.name)).toEqual(['web-a']);
    expect(readFileSync(join(haproxy.runDir, 'haproxy.cfg'), 'utf8')).toContain('server web-a');
  });

  it('retiring a live server fails when HAProxy closes without a word', async () => {
    await lb.addInstance('web', instance('web-a'));
    haproxy.override = (c) => (c.startsWith('show stat') ? { close: true } : undefined);
    await expect(lb.retireServer('web', 'web-a')).rejects.toMatchObject({ code: 'LbTruncatedAnswer' });
    expect(servers('web').map((s) => s.name)).toEqual(['web-a']);
  });

  it('adopting from a cut servers-state answer fails and leaves haproxy.cfg alone', async () => {
    await lb.addInstance('web', instance('web-a'));
    const file = readFileSync(join(haproxy.runDir, 'haproxy.cfg'), 'utf8');
    haproxy.override = (c) => (c.startsWith('show servers state') ? '\n1\n\n' : undefined);
    await expect(lb.adoptRunningServers()).rejects.toBeInstanceOf(TransientError);
    expect(readFileSync(join(haproxy.runDir, 'haproxy.cfg'), 'utf8')).toBe(file);
  });
});

describe('server ids', () => {
  it('are never reused within a backend: add a, add b, remove b, add c gives c the id 3', async () => {
    await lb.addInstance('web', instance('web-a'));
    await lb.addInstance('web', instance('web-b'));
    await lb.removeServer('web', 'web-b');
    const c = await lb.addInstance('web', instance('web-c'));
    expect(c.id).toBe(3);
    expect(haproxy.commands).toContain(
      `add server be_web/web-c 127.0.0.1:${instance('web-c').port} id 3 check inter 500ms downinter 25ms rise 2 fall 2 weight 1`,
    );
  });

  it('adds a name once when two adds of it race', async () => {
    const [first, second] = await Promise.all([
      lb.addInstance('web', instance('web-a')),
      lb.addInstance('web', instance('web-a')),
    ]);
    expect(first.id).toBe(second.id);
    expect(haproxy.commands.filter((c) => c.startsWith('add server'))).toHaveLength(1);
    expect(servers('web').map((s) => s.name)).toEqual(['web-a']);
  });
});

describe('waiting for a busy server to be deletable', () => {
  it('does not hold up other apps while connections are still attached', async () => {
    await lb.addInstance('web', instance('web-a'));
    await lb.addInstance('api', instance('api-a'));
    let busy = true;
    haproxy.override = (c) =>
      c === 'del server be_web/web-a' && busy
        ? '\n[3]: Server still has connections attached to it, cannot remove it.\n\n'
        : undefined;
    const removal = lb.removeServer('web', 'web-a');
    await waitFor(() => (haproxy.commands.includes('del server be_web/web-a') ? true : undefined));
    await lb.setServerState('api', 'api-a', 'drain');
    expect(servers('api')[0]!.state).toBe('drain');
    expect(servers('web').map((s) => s.name)).toEqual(['web-a']);
    busy = false;
    await removal;
    expect(servers('web')).toEqual([]);
  });
});
