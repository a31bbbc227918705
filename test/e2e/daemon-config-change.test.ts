import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GlintConfigInput, validateConfig } from '../../src/config/index.ts';
import { connectEtcd, type EtcdClient } from '../../src/etcd/index.ts';
import { connectLoadBalancer, LocalBinaryValidator, structureFromConfig } from '../../src/lb/index.ts';
import { silentLogger } from '../../src/log/index.ts';
import { removeTestContainers } from '../support/cleanup.ts';
import { type DaemonProcess, readReadiness, spawnDaemon } from '../support/daemon-process.ts';
import { type DemoRegistry, pushDemoVersion, startDemoRegistry } from '../support/demo-registry.ts';
import { type EtcdHandle, startEtcd } from '../support/etcd-container.ts';
import { expectEveryRequestAnswered } from '../support/expect-every-request-answered.ts';
import { freePort } from '../support/free-port.ts';
import { startHaproxy } from '../support/haproxy-container.ts';
import { formatLoad, ROLLOUT_LOAD, startLoad } from '../support/http-load.ts';
import { testLabels, testRunId } from '../support/labels.ts';
import { readEvents, type SseEvent } from '../support/sse-reader.ts';
import { waitFor } from '../support/wait-for.ts';

const SUITE = 'e2e-daemon-config-change';
// Not 'web': Docker is shared with other suites, and a daemon takes every container of its app
// name on the engine for its own.
const APP = 'cfgdaemon';
const TOKEN = 'e2e-config-read-token-0123456789abcdef';
const VALUE = 'greeting-from-etcd-7d3f';

let etcdHandle: EtcdHandle;
let etcd: EtcdClient;
let registry: DemoRegistry;
let dir: string;
let daemon: DaemonProcess;
/** A second daemon on the same etcd and HAProxy, started by the failover test. */
let follower: DaemonProcess | undefined;
let api: string;
let frontendPort: number;
let file: string;
let decl: GlintConfigInput;

function declaration(apiPort: number): GlintConfigInput {
  return {
    etcd: { endpoints: [etcdHandle.endpoint], leaseTtl: '2s' },
    registries: { [registry.host]: { insecure: true } },
    haproxy: { runDir: join(dir, 'haproxy') },
    api: {
      listen: `127.0.0.1:${apiPort}`,
      tokenFile: join(dir, 'api-token'),
      tokens: [{ name: 'ops', role: 'read', token: { fromEnv: 'E2E_CONFIG_TOKEN' } }],
    },
    apps: {
      [APP]: {
        image: `${registry.host}/demo-app`,
        version: '1.0.0',
        instances: 2,
        port: 8080,
        // Every container the daemon starts carries the suite's labels, so teardown finds it.
        labels: testLabels(SUITE),
        health: { type: 'http', path: '/healthz', interval: '500ms', timeout: '500ms', healthyThreshold: 1 },
        strategy: {
          maxSurge: 1,
          maxUnavailable: 0,
          minHealthyTime: '500ms',
          healthyDeadline: '8s',
          drainTimeout: '3s',
          stopTimeout: '3s',
        },
        routing: { frontendPort },
      },
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field in the tests
async function get(path: string): Promise<any> {
  const res = await fetch(`${api}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

const appState = () => get(`/v1/apps/${APP}`);

/**
 * Reads `daemonUrl`'s event stream (opened now) until `until` holds. A stream that never brings
 * what is awaited is cut at the deadline, which fails the test instead of holding it.
 */
async function streamOf(daemonUrl: string, query: string, until: (events: SseEvent[]) => boolean) {
  const res = await fetch(`${daemonUrl}/v1/events?${query}`, {
    headers: { authorization: `Bearer ${TOKEN}` },
    signal: AbortSignal.timeout(280_000),
  });
  if (res.status !== 200) throw new Error(`GET /v1/events: ${res.status} ${await res.text()}`);
  const read = readEvents(res, until);
  read.catch(() => undefined);
  // Wrapped: an async function returning the promise itself would wait for the stream's end.
  return { read };
}

// biome-ignore lint/suspicious/noExplicitAny: event payloads are checked field by field
const dataOf = (e: SseEvent): any => JSON.parse(e.data);

const withOutput = (err: Error) => {
  const second = follower ? `; second daemon output: ${follower.output().slice(-3000)}` : '';
  throw new Error(`${err.message}; daemon output: ${daemon.output().slice(-3000)}${second}`);
};

/** The deployment the daemon started for a change put at or after `since`, once it ended. */
async function rolloutOf(key: string, since: number) {
  const change = await waitFor(
    async () => {
      const app = await appState();
      return app.configChanges.find(
        (c: { revision: number; keys: string[]; deploymentId?: string }) =>
          c.revision >= since && c.keys.includes(key) && c.deploymentId,
      );
    },
    { timeoutMs: 60_000, intervalMs: 250, what: `a deployment for ${key}` },
  ).catch(withOutput);
  return get(`/v1/deployments/${change.deploymentId}?wait=240`);
}

/**
 * Writes `next` as the declaration and sends SIGHUP; resolves once the daemon has enforced it
 * (its line for the app), with what enforcing did.
 */
async function reload(next: GlintConfigInput): Promise<{ action: string; msg: string }> {
  writeFileSync(file, `export default ${JSON.stringify(next)};\n`);
  const enforcedLines = () =>
    daemon
      .output()
      .split('\n')
      .filter((l) => l.includes(`"app":"${APP}","action":`));
  const before = enforcedLines().length;
  daemon.proc.kill('SIGHUP');
  const line = await waitFor(() => enforcedLines()[before], {
    timeoutMs: 60_000,
    what: 'the reloaded declaration to be enforced',
  }).catch(withOutput);
  return JSON.parse(line);
}

async function containerEnv(containerId: string): Promise<Record<string, string>> {
  const info = await new Docker().getContainer(containerId).inspect();
  return Object.fromEntries(
    (info.Config.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
  );
}

const load = () =>
  startLoad({
    url: `http://127.0.0.1:${frontendPort}/`,
    ...ROLLOUT_LOAD,
    rate: 150,
    maxDurationSec: 240,
  });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cc-'));
  mkdirSync(join(dir, 'haproxy'));
  const apiPort = await freePort();
  frontendPort = await freePort();
  etcdHandle = await startEtcd(SUITE);
  etcd = await connectEtcd({ endpoints: [etcdHandle.endpoint], prefix: '/glint' });
  registry = await startDemoRegistry(SUITE);
  await pushDemoVersion(registry, 'demo-app', '1.0.0');
  await etcd.put(`/glint/config/${APP}/GREETING`, 'boot');
  decl = declaration(apiPort);
  const parsed = validateConfig(decl);
  if (!parsed.ok) throw new Error(`test declaration is invalid: ${JSON.stringify(parsed.issues)}`);
  await connectLoadBalancer(structureFromConfig(parsed.config, process.cwd()), {
    logger: silentLogger(),
    validator: new LocalBinaryValidator(),
  });
  await startHaproxy(SUITE, join(dir, 'haproxy'));
  file = join(dir, 'scheduler.config.ts');
  writeFileSync(file, `export default ${JSON.stringify(decl)};\n`);
  api = `http://127.0.0.1:${apiPort}`;
  daemon = spawnDaemon(file, { apiUrl: api, dir, env: { E2E_CONFIG_TOKEN: TOKEN } });
  await waitFor(
    async () => {
      const app = await appState();
      return app.running?.version === '1.0.0' && app.instances?.ready === 2 && !app.activeDeployment
        ? true
        : undefined;
    },
    { timeoutMs: 180_000, intervalMs: 500, what: `${APP} running 1.0.0` },
  ).catch(withOutput);
}, 420_000);

afterAll(async () => {
  for (const d of [daemon, follower]) {
    if (d && d.proc.exitCode === null && d.proc.signalCode === null) {
      d.proc.kill('SIGKILL');
      await d.exited;
    }
  }
  etcd?.close();
  await removeTestContainers({ runId: testRunId(), suite: SUITE });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a config change in etcd, rolled out by a real daemon', () => {
  it('replaces every instance with the new env under load, and the API shows its cause and each instance’s env', async () => {
    const traffic = load();
    let since = 0;
    const stream = await streamOf(api, `types=config&app=${APP}`, (events) =>
      events.some((e) => e.event === 'config:changed' && dataOf(e).revision >= since && since > 0),
    );
    // biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field in the tests
    let done: any;
    try {
      since = await etcd.put(`/glint/config/${APP}/GREETING`, VALUE);
      done = await rolloutOf(`config/${APP}/GREETING`, since);
    } finally {
      traffic.stop();
    }
    const summary = await traffic.result;
    console.log(formatLoad('config change by the daemon', summary));
    const { events } = await stream.read;
    const told = events.filter((e) => e.event === 'config:changed' && dataOf(e).revision === since);
    expect(told.map(dataOf)).toEqual([
      expect.objectContaining({
        app: APP,
        keys: [`config/${APP}/GREETING`],
        revision: since,
        outcome: 'started',
        deploymentId: done.id,
        fingerprint: done.to.env.fingerprint,
      }),
    ]);
    expect(JSON.stringify(events)).not.toContain(VALUE);
    expect(done.state, `error: ${JSON.stringify(done.error)}`).toBe('succeeded');
    expect(done.kind).toBe('config');
    expect(done.trigger).toEqual({
      source: 'etcd',
      keys: [`config/${APP}/GREETING`],
      revision: since,
      reasons: ['config'],
    });
    expectEveryRequestAnswered(summary, { atLeast: 101 });
    const app = await appState();
    expect(app.configChanges[0]).toMatchObject({
      outcome: 'started',
      deploymentId: done.id,
      revision: since,
    });
    expect(app.instances.list).toHaveLength(2);
    for (const i of app.instances.list) {
      expect(i.envFingerprint).toBe(done.to.env.fingerprint);
      expect(i.configRevision).toBeGreaterThanOrEqual(since);
      expect((await containerEnv(i.containerId)).GREETING).toBe(VALUE);
    }
    // Names and fingerprints only: the value never reaches the API.
    expect(JSON.stringify(app)).not.toContain(VALUE);
    expect(JSON.stringify(done)).not.toContain(VALUE);
  }, 300_000);

  it('rolls FAIL_HEALTH=1 back with no client error, and the deployment names the key', async () => {
    const before = await appState();
    const fingerprint = before.instances.list[0].envFingerprint;
    const traffic = load();
    // biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field in the tests
    let done: any;
    try {
      const since = await etcd.put(`/glint/config/${APP}/FAIL_HEALTH`, '1');
      done = await rolloutOf(`config/${APP}/FAIL_HEALTH`, since);
    } finally {
      traffic.stop();
    }
    const summary = await traffic.result;
    console.log(formatLoad('failed config change by the daemon', summary));
    expect(done.state).toBe('rolled_back');
    expect(done.error.message).toMatch(
      new RegExp(`^config change of config/${APP}/FAIL_HEALTH made the new instances fail: `),
    );
    expectEveryRequestAnswered(summary, { atLeast: 101 });
    const app = await waitFor(
      async () => {
        const a = await appState();
        return a.instances.ready === 2 && a.instances.list.length === 2 ? a : undefined;
      },
      { timeoutMs: 30_000, what: 'two ready instances after the rollback' },
    );
    for (const i of app.instances.list) {
      expect(i.envFingerprint).toBe(fingerprint);
      const env = await containerEnv(i.containerId);
      expect(env.FAIL_HEALTH).toBeUndefined();
      expect(env.GREETING).toBe(VALUE);
    }
  }, 300_000);

  it("skips a change back to the env the instances run, and takes onConfigChange: 'none' from a reloaded declaration", async () => {
    const deployments = async () => (await get(`/v1/deployments?app=${APP}`)).deployments.length;
    const count = await deployments();
    const before = (await etcd.txn({ compare: [], success: [] })).revision;
    expect(await etcd.delete(`/glint/config/${APP}/FAIL_HEALTH`)).toBe(1);
    const skipped = await waitFor(
      async () => (await appState()).configChanges.find((c: { revision: number }) => c.revision > before),
      { timeoutMs: 30_000, what: 'the removal of FAIL_HEALTH to be recorded' },
    );
    expect(skipped.keys).toEqual([`config/${APP}/FAIL_HEALTH`]);
    expect(skipped).toMatchObject({ outcome: 'skipped', message: 'the instances already run this env' });

    const app = decl.apps[APP]!;
    const enforced = await reload({ ...decl, apps: { [APP]: { ...app, onConfigChange: 'none' } } });
    expect(enforced.action).toBe('kept');
    const since = await etcd.put(`/glint/config/${APP}/GREETING`, 'quiet');
    const recorded = await waitFor(
      async () => (await appState()).configChanges.find((c: { revision: number }) => c.revision >= since),
      { timeoutMs: 30_000, what: 'the change to be recorded' },
    ).catch(withOutput);
    expect(recorded).toMatchObject({ outcome: 'recorded', keys: [`config/${APP}/GREETING`] });
    expect(recorded.deploymentId).toBeUndefined();
    const now = await appState();
    expect(now.activeDeployment).toBeNull();
    expect(await deployments()).toBe(count);
    for (const i of now.instances.list) expect((await containerEnv(i.containerId)).GREETING).toBe(VALUE);
  }, 120_000);

  it('rolls changes out on the leader only, and on the next leader once the first is killed', async () => {
    // Back to 'rotate' for the leader (SIGHUP) and for the follower, which reads the same file.
    // Enforcing the declaration rolls out the env 'none' left behind (GREETING=quiet): let it end.
    expect((await reload(decl)).action).toBe('deployment');
    await waitFor(async () => ((await appState()).activeDeployment === null ? true : undefined), {
      timeoutMs: 120_000,
      what: 'no active deployment after the reload',
    });
    const followerPort = await freePort();
    const followerFile = join(dir, 'follower.config.ts');
    const followerDecl = { ...decl, api: { ...decl.api, listen: `127.0.0.1:${followerPort}` } };
    writeFileSync(followerFile, `export default ${JSON.stringify(followerDecl)};\n`);
    const second = spawnDaemon(followerFile, {
      apiUrl: `http://127.0.0.1:${followerPort}`,
      dir,
      env: { E2E_CONFIG_TOKEN: TOKEN },
    });
    follower = second;
    await waitFor(
      async () => {
        const r = await readReadiness(second.apiUrl);
        return r.body.leader === api && !r.body.isLeader ? true : undefined;
      },
      { timeoutMs: 60_000, what: 'the second daemon to follow' },
    ).catch((err: Error) => {
      throw new Error(`${err.message}; follower output: ${second.output().slice(-2000)}`);
    });

    // The follower streams what the leader writes to etcd once it has read the records.
    await waitFor(() => (second.output().includes('following: events are read back') ? true : undefined), {
      timeoutMs: 60_000,
      what: 'the second daemon to follow the records in etcd',
    }).catch((err: Error) => {
      throw new Error(`${err.message}; follower output: ${second.output().slice(-2000)}`);
    });
    let doneId: string | undefined;
    const onFollower = await streamOf(second.apiUrl, `app=${APP}`, (events) =>
      events.some((e) => e.event === 'deployment:finished' && dataOf(e).id === doneId),
    );
    const first = await etcd.put(`/glint/config/${APP}/GREETING`, 'from-the-leader');
    const done = await rolloutOf(`config/${APP}/GREETING`, first);
    doneId = done.id;
    expect(done.state).toBe('succeeded');
    // An end told before doneId was known is found at the next event or keep-alive (15 s).
    const { events } = await onFollower.read.catch(withOutput);
    const ofDone = events.filter(
      (e) =>
        (e.event.startsWith('deployment:') && dataOf(e).id === done.id) ||
        (e.event.startsWith('step:') && dataOf(e).deploymentId === done.id),
    );
    const types = ofDone.map((e) => e.event);
    expect(types[0]).toBe('deployment:started');
    expect(types.at(-1)).toBe('deployment:finished');
    expect(dataOf(ofDone.at(-1)!)).toMatchObject({
      id: done.id,
      app: APP,
      kind: 'config',
      state: 'succeeded',
    });
    // Every step the leader recorded, told once as started and once as it ended, as recorded.
    const steps = ofDone.filter((e) => e.event.startsWith('step:'));
    expect(done.steps.length).toBeGreaterThanOrEqual(6);
    for (const recorded of done.steps) {
      const told = steps.filter((e) => dataOf(e).seq === recorded.seq);
      expect(told.map((e) => e.event)).toEqual([
        'step:started',
        recorded.state === 'failed' ? 'step:failed' : 'step:finished',
      ]);
      expect(dataOf(told[1]!)).toEqual({ app: APP, deploymentId: done.id, ...recorded });
    }
    // The config change the leader recorded reaches the follower too.
    const changed = events.filter((e) => e.event === 'config:changed').map(dataOf);
    expect(changed).toContainEqual(
      expect.objectContaining({ app: APP, revision: first, outcome: 'started', deploymentId: done.id }),
    );
    expect(JSON.stringify(events)).not.toContain('from-the-leader');
    const handled = (await appState()).configChanges.filter((c: { revision: number }) => c.revision >= first);
    expect(handled.map((c: { outcome: string }) => c.outcome)).toEqual(['started']);
    expect(second.output()).not.toContain('"config change"');

    daemon.proc.kill('SIGKILL');
    await daemon.exited;
    api = second.apiUrl;
    await waitFor(async () => ((await readReadiness(second.apiUrl)).body.isLeader ? true : undefined), {
      timeoutMs: 60_000,
      what: 'the second daemon to lead',
    });
    // A new leader first brings apps to their declaration, then watches etcd; a change put
    // before it enforced would be rolled out as declaration drift, not as this config change.
    await waitFor(() => (second.output().includes(`"app":"${APP}","action":`) ? true : undefined), {
      timeoutMs: 60_000,
      what: 'the second daemon to enforce the declaration',
    }).catch((err: Error) => {
      throw new Error(`${err.message}; follower output: ${second.output().slice(-2000)}`);
    });
    const traffic = load();
    // biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field in the tests
    let next: any;
    try {
      const since = await etcd.put(`/glint/config/${APP}/GREETING`, 'from-the-next-leader');
      next = await rolloutOf(`config/${APP}/GREETING`, since);
    } finally {
      traffic.stop();
    }
    const summary = await traffic.result;
    console.log(formatLoad('config change by the next leader', summary));
    expect(next.state, `error: ${JSON.stringify(next.error)}`).toBe('succeeded');
    expectEveryRequestAnswered(summary, { atLeast: 101 });
    for (const i of (await appState()).instances.list)
      expect((await containerEnv(i.containerId)).GREETING).toBe('from-the-next-leader');
  }, 300_000);
});
