import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectLoadBalancer,
  type HaproxyLoadBalancer,
  type LbStructure,
  LocalBinaryValidator,
} from '../../../src/lb/index.ts';
import { silentLogger } from '../../../src/log/index.ts';
import type { LoadBalancer } from '../../../src/rollout/ports.ts';
import { removeTestContainers } from '../../support/cleanup.ts';
import { testRunId } from '../../support/labels.ts';
import { waitFor } from '../../support/wait-for.ts';
import {
  appModel,
  fastCheck,
  freePort,
  type LbFixture,
  startLbFixture,
  startTestBackend,
  type TestBackend,
} from './lb-fixture.ts';

const SUITE = 'lb-steps';
const { type: _type, path: _path, ...timing } = fastCheck;
let fx: LbFixture;
let webPort: number;
let queuePort: number;
const backends: TestBackend[] = [];
const tcpServers: Server[] = [];

beforeAll(async () => {
  webPort = await freePort();
  queuePort = await freePort();
  fx = await startLbFixture(SUITE, [
    appModel('web', webPort, { drainTimeoutMs: 5_000 }),
    appModel('queue', queuePort, { check: { type: 'tcp', ...timing } }),
  ]);
});

afterAll(async () => {
  await removeTestContainers({ runId: testRunId(), suite: SUITE });
  await Promise.all(backends.map((b) => b.close()));
  for (const server of tcpServers) server.close();
});

const backend = async (name: string) => {
  const b = await startTestBackend(name);
  backends.push(b);
  return b;
};

/** Accepts TCP, records the first bytes of each connection, answers something that is not HTTP. */
async function startTcpServer(): Promise<{ port: number; firstBytes: string[] }> {
  const firstBytes: string[] = [];
  const server = createServer((socket: Socket) => {
    socket.once('data', (chunk) => {
      firstBytes.push(chunk.toString('latin1'));
      socket.end('not http at all\n');
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  tcpServers.push(server);
  const address = server.address();
  return { port: typeof address === 'object' && address ? address.port : 0, firstBytes };
}

const get = async (path = '/') => {
  const res = await fetch(`http://127.0.0.1:${webPort}${path}`);
  return { status: res.status, body: await res.text() };
};

const listed = async (lb: LoadBalancer, app: string, name: string) =>
  (await lb.servers(app)).find((s) => s.name === name);

/**
 * The rollout engine's steps on one server, as it calls them through its port: stage, wait
 * for HAProxy's check, promote, traffic, drain while a request is in flight, remove.
 */
async function runSteps(steps: LoadBalancer, b: TestBackend, label: string, name: string) {
  const passed = await waitFor(
    async () => {
      const server = await listed(steps, 'web', name);
      return server?.checkPassed ? server : undefined;
    },
    { timeoutMs: 15_000, what: `HAProxy's check of ${name} to pass` },
  );
  expect(passed).toMatchObject({ state: 'drain', checkStatus: 'L7OK', sessions: 0 });
  expect(b.hits).toEqual([]);

  await steps.promote('web', name);
  await steps.promote('web', name);
  expect(await listed(steps, 'web', name)).toMatchObject({ state: 'ready', checkPassed: true });
  await waitFor(async () => ((await get()).body === `served by ${label}` ? true : undefined), {
    what: `a request served by ${name}`,
  });

  // A request held open on the server (the only one in rotation): the drain waits for it.
  const holds = b.hits.filter((h) => h.path === '/hold').length;
  const held = get('/hold');
  await waitFor(() => (b.hits.filter((h) => h.path === '/hold').length > holds ? true : undefined), {
    what: `a held request on ${name}`,
  });
  let drainedAt: 'pending' | { drained: boolean } = 'pending';
  const draining = steps.drain('web', name, 20_000).then((outcome) => {
    drainedAt = outcome;
    return outcome;
  });
  await waitFor(async () => ((await listed(steps, 'web', name))?.state === 'drain' ? true : undefined), {
    what: `${name} in drain`,
  });
  expect((await listed(steps, 'web', name))?.sessions).toBeGreaterThan(0);
  expect(drainedAt).toBe('pending');
  b.release();
  expect(await held).toEqual({ status: 200, body: `served by ${label}` });
  expect(await draining).toEqual({ drained: true });

  await steps.remove('web', name);
  expect(await listed(steps, 'web', name)).toBeUndefined();
  expect(await steps.drain('web', name, 1_000)).toEqual({ drained: true });
  await steps.remove('web', name);
  expect(readFileSync(`${fx.runDir}/haproxy.cfg`, 'utf8')).not.toContain(`server ${name} `);
}

const structureOf = (lb: HaproxyLoadBalancer): LbStructure => ({
  ...lb.model,
  apps: lb.model.apps.map(({ servers: _servers, ...app }) => app),
});

const backendSection = (name: string) =>
  readFileSync(`${fx.runDir}/haproxy.cfg`, 'utf8')
    .split('\n\n')
    .find((section) => section.startsWith(`backend ${name}\n`)) ?? '';

describe('the rollout steps against a real HAProxy', () => {
  it('stage, check passed, promote, traffic, drain to 0 sessions, remove', async () => {
    const one = await backend('one');
    await fx.lb.stage('web', { name: 'web-1', host: '127.0.0.1', port: one.port });
    await fx.lb.stage('web', { name: 'web-1', host: '127.0.0.1', port: one.port });
    await runSteps(fx.lb, one, 'one', 'web-1');
  });

  it('gives a tcp app a TCP check: a server that speaks no HTTP reaches L4OK, is promoted and gets connections', async () => {
    const plain = await startTcpServer();
    await fx.lb.stage('queue', { name: 'queue-1', host: '127.0.0.1', port: plain.port });
    const passed = await waitFor(
      async () => {
        const server = await listed(fx.lb, 'queue', 'queue-1');
        return server?.checkPassed ? server : undefined;
      },
      { timeoutMs: 15_000, what: "HAProxy's TCP check of queue-1 to pass" },
    );
    expect(passed).toMatchObject({ state: 'drain', checkStatus: 'L4OK' });
    expect(backendSection('be_queue')).toContain('server queue-1 ');
    expect(backendSection('be_queue')).not.toMatch(/httpchk|http-check/);
    await fx.lb.promote('queue', 'queue-1');
    expect(await listed(fx.lb, 'queue', 'queue-1')).toMatchObject({ state: 'ready', checkPassed: true });
    await fetch(`http://127.0.0.1:${queuePort}/jobs`).catch(() => undefined);
    await waitFor(() => (plain.firstBytes.some((b) => b.startsWith('GET /jobs ')) ? true : undefined), {
      what: 'the request to reach the TCP server',
    });
    await fx.lb.remove('queue', 'queue-1');
    expect(await listed(fx.lb, 'queue', 'queue-1')).toBeUndefined();
  });

  it('never passes the HTTP check of an http app on that same server, which stays staged', async () => {
    const plain = await startTcpServer();
    await fx.lb.stage('web', { name: 'web-plain', host: '127.0.0.1', port: plain.port });
    const checked = await waitFor(
      async () => {
        const server = await listed(fx.lb, 'web', 'web-plain');
        return server && /^L[4-7]/.test(server.checkStatus) && server.checkStatus !== 'L7OK'
          ? server
          : undefined;
      },
      { timeoutMs: 15_000, what: "HAProxy's HTTP check of web-plain to fail" },
    );
    expect(checked).toMatchObject({ state: 'drain', checkPassed: false });
    expect(plain.firstBytes[0]).toMatch(/^GET \/healthz HTTP\/1\.1/);
    await fx.lb.remove('web', 'web-plain');
    expect(await listed(fx.lb, 'web', 'web-plain')).toBeUndefined();
  });

  it("reads every app's servers and their admin state in one read, as each app's own read says", async () => {
    const a = await backend('states-a');
    const plain = await startTcpServer();
    await fx.lb.stage('web', { name: 'web-s', host: '127.0.0.1', port: a.port });
    await fx.lb.stage('queue', { name: 'queue-s', host: '127.0.0.1', port: plain.port });
    await fx.lb.promote('queue', 'queue-s');
    const whole = await fx.lb.serverStates();
    const named = (app: string) => whole.get(app)?.map((s) => `${s.name} ${s.state} ${s.address}:${s.port}`);
    expect(named('web')).toEqual([`web-s drain 127.0.0.1:${a.port}`]);
    expect(named('queue')).toEqual([`queue-s ready 127.0.0.1:${plain.port}`]);
    for (const app of ['web', 'queue'])
      expect(whole.get(app)?.map((s) => [s.name, s.state])).toEqual(
        (await fx.lb.servers(app)).map((s) => [s.name, s.state]),
      );
    await fx.lb.remove('web', 'web-s');
    await fx.lb.remove('queue', 'queue-s');
    expect([...(await fx.lb.serverStates())].map(([app, servers]) => [app, servers.length])).toEqual([
      ['web', 0],
      ['queue', 0],
    ]);
  });

  // Last: the load balancer of the fixture stands for the daemon before the restart.
  it('does the same on a server staged before a restart, from a new load balancer on the same run folder', async () => {
    const two = await backend('two');
    await fx.lb.stage('web', { name: 'web-2', host: '127.0.0.1', port: two.port });
    // The daemon restarts: a new load balancer adopts the running servers, as at start.
    const { lb: restarted, haproxyRunning } = await connectLoadBalancer(structureOf(fx.lb), {
      logger: silentLogger(),
      validator: new LocalBinaryValidator(),
    });
    expect(haproxyRunning).toBe(true);
    await restarted.stage('web', { name: 'web-2', host: '127.0.0.1', port: two.port });
    await runSteps(restarted, two, 'two', 'web-2');
    expect(restarted.model.apps.find((x) => x.name === 'web')!.servers).toEqual([]);
  });
});
