import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerEngine, discoverServiceAddress } from '../../../src/docker/index.ts';
import { connectLoadBalancer, type LbStructure, LocalBinaryValidator } from '../../../src/lb/index.ts';
import { silentLogger } from '../../../src/log/index.ts';
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

const SUITE = 'lb-service-binds';
let fx: LbFixture;
let port: number;
let serviceAddress: string;
let one: TestBackend;

beforeAll(async () => {
  port = await freePort();
  serviceAddress = await discoverServiceAddress(new DockerEngine(), 'local');
  // HAProxy runs a file from before service addresses: only the loopback bind.
  fx = await startLbFixture(SUITE, [appModel('svc', port)]);
  one = await startTestBackend('one');
  await fx.lb.stage('svc', { name: 'svc-1', host: '127.0.0.1', port: one.port });
  await waitFor(async () => ((await fx.lb.servers('svc'))[0]?.checkPassed ? true : undefined), {
    what: "HAProxy's check of svc-1",
  });
  await fx.lb.promote('svc', 'svc-1');
});

afterAll(async () => {
  await removeTestContainers({ runId: testRunId(), suite: SUITE });
  await one?.close();
});

const structure = (serviceAddresses: string[]): LbStructure => ({
  ...fx.model,
  ...(serviceAddresses.length ? { serviceAddresses } : {}),
  apps: fx.model.apps.map(({ servers: _servers, ...app }) => app),
});

const connect = (serviceAddresses: string[]) =>
  connectLoadBalancer(structure(serviceAddresses), {
    logger: silentLogger(),
    validator: new LocalBinaryValidator(),
  });

async function answerAt(address: string): Promise<string> {
  try {
    const res = await fetch(`http://${address}:${port}/`, { headers: { connection: 'close' } });
    return `${res.status} ${await res.text()}`;
  } catch (err) {
    return `failed: ${(err as { cause?: { code?: string } }).cause?.code ?? String(err)}`;
  }
}

describe("an app frontend on the engines' service addresses, against a real HAProxy", () => {
  it('a daemon starting with service addresses reloads a HAProxy that runs without them, keeping its servers', async () => {
    expect(await answerAt(serviceAddress)).toMatch(/^failed: ECONNREFUSED/);
    const reloadsBefore = (await fx.lb.master.showProc()).reloads;
    const { lb } = await connect([serviceAddress]);
    expect((await lb.master.showProc()).reloads).toBeGreaterThan(reloadsBefore);
    expect(await answerAt(serviceAddress)).toBe('200 served by one');
    expect(await answerAt('127.0.0.1')).toBe('200 served by one');
  });

  it('starts again on the same declaration without a reload', async () => {
    const reloadsBefore = (await fx.lb.master.showProc()).reloads;
    await connect([serviceAddress]);
    expect((await fx.lb.master.showProc()).reloads).toBe(reloadsBefore);
  });

  it('binds an address this machine does not hold without failing the reload (freebind)', async () => {
    // TEST-NET-3: never assigned to an interface here, and no traffic is sent to it.
    const { lb } = await connect([serviceAddress, '203.0.113.7']);
    const proc = await lb.master.showProc();
    expect(proc.failedReloads).toBe(0);
    expect(proc.workers).toHaveLength(1);
    expect(await answerAt(serviceAddress)).toBe('200 served by one');
  });
});
