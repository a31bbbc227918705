import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GlintConfigInput, validateConfig } from '../../src/config/index.ts';
import { connectLoadBalancer, LocalBinaryValidator, structureFromConfig } from '../../src/lb/index.ts';
import { silentLogger } from '../../src/log/index.ts';
import { removeTestContainers } from '../support/cleanup.ts';
import { type DaemonProcess, spawnDaemon } from '../support/daemon-process.ts';
import { type DemoRegistry, pushDemoVersion, startDemoRegistry } from '../support/demo-registry.ts';
import { type EtcdHandle, startEtcd } from '../support/etcd-container.ts';
import { expectEveryRequestAnswered } from '../support/expect-every-request-answered.ts';
import { freePort } from '../support/free-port.ts';
import { startHaproxy } from '../support/haproxy-container.ts';
import { formatLoad, ROLLOUT_LOAD, startLoad } from '../support/http-load.ts';
import { testLabels, testRunId } from '../support/labels.ts';
import { waitFor } from '../support/wait-for.ts';

const SUITE = 'e2e-daemon-rotation';
// Not 'web': Docker is shared with other suites, and a daemon takes every container of its app
// name on the engine for its own.
const APP = 'rotdemo';
const TOKEN = 'e2e-rotation-token-0123456789abcdef';
/** Every 15 seconds: slots close enough for a test, far enough apart to tell one from the next. */
const CRON = '*/15 * * * * *';

const docker = new Docker();
let etcdHandle: EtcdHandle;
let registry: DemoRegistry;
let dir: string;
let file: string;
let apiUrl: string;
let frontendPort: number;
const daemons: DaemonProcess[] = [];

function declaration(apiPort: number): GlintConfigInput {
  return {
    etcd: { endpoints: [etcdHandle.endpoint], leaseTtl: '2s' },
    registries: { [registry.host]: { insecure: true } },
    haproxy: { runDir: join(dir, 'haproxy') },
    api: { listen: `127.0.0.1:${apiPort}`, tokenFile: join(dir, 'api-token') },
    apps: {
      [APP]: {
        image: `${registry.host}/demo-app`,
        version: '1.0.0',
        instances: 2,
        port: 8080,
        labels: testLabels(SUITE),
        health: { type: 'http', path: '/healthz', interval: '500ms', timeout: '500ms', healthyThreshold: 1 },
        strategy: {
          maxSurge: 1,
          maxUnavailable: 0,
          minHealthyTime: '1s',
          drainTimeout: '2s',
          stopTimeout: '3s',
        },
        rotation: { cron: CRON, timezone: 'UTC' },
        routing: { frontendPort },
      },
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field in the tests
async function get(path: string): Promise<any> {
  const res = await fetch(`${apiUrl}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return res.json();
}

type Rotation = { id: string; state: string; slot: string };

/** The app's rotate deployments with the cron slot each was started for. */
async function rotations(): Promise<Rotation[]> {
  const { deployments } = await get(`/v1/deployments?app=${APP}&limit=50`);
  return (deployments as { id: string; kind: string; state: string; cause?: string }[])
    .filter((d) => d.kind === 'rotate')
    .map((d) => ({ id: d.id, state: d.state, slot: / at (\S+)/.exec(d.cause ?? '')?.[1] ?? '?' }));
}

async function appContainerIds(): Promise<string[]> {
  const list = await docker.listContainers({
    filters: { label: [`glint.app=${APP}`, `glint.test=${testRunId()}`], status: ['running'] },
  });
  return list.map((c) => c.Id).sort();
}

function startDaemon(): DaemonProcess {
  const d = spawnDaemon(file, { apiUrl, dir, env: { GLINT_API_TOKEN: TOKEN } });
  daemons.push(d);
  return d;
}

const withOutput = (d: DaemonProcess) => (err: Error) => {
  throw new Error(`${err.message}; daemon output: ${d.output().slice(-3000)}`);
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dr-'));
  mkdirSync(join(dir, 'haproxy'));
  const apiPort = await freePort();
  frontendPort = await freePort();
  etcdHandle = await startEtcd(SUITE);
  registry = await startDemoRegistry(SUITE);
  await pushDemoVersion(registry, 'demo-app', '1.0.0');
  const decl = declaration(apiPort);
  const parsed = validateConfig(decl);
  if (!parsed.ok) throw new Error(`test declaration is invalid: ${JSON.stringify(parsed.issues)}`);
  await connectLoadBalancer(structureFromConfig(parsed.config, process.cwd()), {
    logger: silentLogger(),
    validator: new LocalBinaryValidator(),
  });
  await startHaproxy(SUITE, join(dir, 'haproxy'));
  file = join(dir, 'scheduler.config.ts');
  writeFileSync(file, `export default ${JSON.stringify(decl)};\n`);
  apiUrl = `http://127.0.0.1:${apiPort}`;
  const d = startDaemon();
  await waitFor(
    async () => {
      const app = await get(`/v1/apps/${APP}`).catch(() => undefined);
      return app?.running?.version === '1.0.0' && app.instances?.ready === 2 ? true : undefined;
    },
    { timeoutMs: 180_000, intervalMs: 500, what: `${APP} running 1.0.0 on 2 instances` },
  ).catch(withOutput(d));
}, 420_000);

afterAll(async () => {
  for (const d of daemons)
    if (d.proc.exitCode === null && d.proc.signalCode === null) {
      d.proc.kill('SIGKILL');
      await d.exited;
    }
  await removeTestContainers({ runId: testRunId(), suite: SUITE });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('cron rotations run by a real daemon', () => {
  it('fires on schedule and replaces every instance under load with no client error', {
    timeout: 300_000,
  }, async () => {
    const daemon = daemons.at(-1)!;
    const next = (await get('/v1/apps')).apps.find((a: { name: string }) => a.name === APP)?.rotation?.next;
    expect(next).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:(00|15|30|45)\.000Z$/);
    const before = await appContainerIds();
    const seen = new Set((await rotations()).map((r) => r.id));
    const load = startLoad({
      url: `http://127.0.0.1:${frontendPort}/`,
      ...ROLLOUT_LOAD,
      rate: 120,
      maxDurationSec: 240,
    });
    try {
      await waitFor(
        async () =>
          (await rotations()).some((r) => !seen.has(r.id) && r.state === 'succeeded') ? true : undefined,
        { timeoutMs: 120_000, intervalMs: 500, what: 'a cron rotation to succeed' },
      ).catch(withOutput(daemon));
    } finally {
      load.stop();
    }
    const summary = await load.result;
    console.log(formatLoad('cron rotation', summary));
    const after = await appContainerIds();
    expect(after).toHaveLength(2);
    expect(after.filter((id) => before.includes(id))).toEqual([]);
    expectEveryRequestAnswered(summary, { atLeast: 30 });
  });

  it('a leader killed with SIGKILL during a rotation: the rotation finishes and its slot runs once', {
    timeout: 300_000,
  }, async () => {
    const daemon = daemons.at(-1)!;
    const seen = new Set((await rotations()).map((r) => r.id));
    const running = await waitFor(
      async () => (await rotations()).find((r) => !seen.has(r.id) && r.state === 'running'),
      { timeoutMs: 120_000, intervalMs: 100, what: 'the next cron rotation to be running' },
    ).catch(withOutput(daemon));
    daemon.proc.kill('SIGKILL');
    await daemon.exited;
    const restarted = startDaemon();
    await waitFor(
      async () =>
        (await rotations()).find((r) => r.id === running.id)?.state === 'succeeded' ? true : undefined,
      { timeoutMs: 180_000, intervalMs: 500, what: `rotation ${running.id} to finish after the restart` },
    ).catch(withOutput(restarted));
    // Until the slot after it has been taken: the killed slot must not have been run again.
    await waitFor(async () => ((await rotations()).some((r) => r.slot > running.slot) ? true : undefined), {
      timeoutMs: 120_000,
      intervalMs: 500,
      what: 'the next slot to run',
    }).catch(withOutput(restarted));
    const bySlot = (await rotations()).filter((r) => r.slot === running.slot);
    expect(bySlot.map((r) => r.id)).toEqual([running.id]);
  });
});
