import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GlintConfigInput, validateConfig } from '../../src/config/index.ts';
import { networkIp } from '../../src/docker/instance-address.ts';
import {
  connectEtcd,
  type DeploymentRecord,
  type EtcdClient,
  EtcdServiceRegistry,
  EtcdStateStore,
} from '../../src/etcd/index.ts';
import {
  connectLoadBalancer,
  type HaproxyLoadBalancer,
  LocalBinaryValidator,
  structureFromConfig,
} from '../../src/lb/index.ts';
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

const SUITE = 'e2e-daemon-kill-resume';
// Not 'web': Docker is shared with other suites, and a glint engine takes every container of its app
// name on the engine for its own.
const APP = 'killres';
const INSTANCES = 5;
const MAX_SURGE = 1;
/** 1.0.0 is the first deployment; each kill point rolls to the next one. */
const VERSIONS = ['1.0.0', '1.1.0', '1.2.0', '1.3.0', '1.4.0', '1.5.0'];

const docker = new Docker();
let etcdHandle: EtcdHandle;
let registry: DemoRegistry;
let etcd: EtcdClient | undefined;
let store: EtcdStateStore;
/** Only reads HAProxy (`servers()`); the daemon is the one that changes it. */
let observer: HaproxyLoadBalancer;
let dir: string;
let declarationFile: string;
let apiPort: number;
let frontendPort: number;
const daemons: DaemonProcess[] = [];

function declaration(version: string): GlintConfigInput {
  return {
    etcd: { endpoints: [etcdHandle.endpoint], leaseTtl: '2s' },
    // As the demo declaration: instances at their container IPs, so what a restarted daemon
    // adopts is read from the list by IP and labelled port (host ports: every other daemon test).
    docker: { endpoints: [{ name: 'local', socketPath: '/var/run/docker.sock', addressMode: 'container' }] },
    registries: { [registry.host]: { insecure: true } },
    haproxy: { runDir: join(dir, 'haproxy') },
    api: { listen: `127.0.0.1:${apiPort}`, tokenFile: join(dir, 'api-token') },
    apps: {
      [APP]: {
        image: `${registry.host}/demo-app`,
        version,
        instances: INSTANCES,
        port: 8080,
        // Every container the daemon starts carries the suite's labels, so teardown finds it.
        labels: testLabels(SUITE),
        // Requests in flight when a server is set to drain keep it draining for up to 100 ms, so
        // the "while draining" kill point, polled every 20 ms, has a window to see; with instant
        // answers a drain is over in a few ms and the rollout could end unseen.
        env: { RESPONSE_DELAY_MS: '100' },
        health: { type: 'http', path: '/healthz', interval: '500ms', timeout: '500ms', healthyThreshold: 2 },
        strategy: {
          maxSurge: MAX_SURGE,
          maxUnavailable: 0,
          minHealthyTime: '1s',
          drainTimeout: '5s',
          stopTimeout: '3s',
        },
        routing: { frontendPort },
      },
    },
  };
}

function writeDeclaration(version: string) {
  writeFileSync(declarationFile, `export default ${JSON.stringify(declaration(version))};\n`);
}

function startDaemon(): DaemonProcess {
  const daemon = spawnDaemon(declarationFile, { apiUrl: `http://127.0.0.1:${apiPort}`, dir });
  daemons.push(daemon);
  return daemon;
}

async function killDaemon(daemon: DaemonProcess) {
  if (daemon.proc.exitCode === null && daemon.proc.signalCode === null) daemon.proc.kill('SIGKILL');
  await daemon.exited;
}

type AppContainer = { id: string; instance: string; version: string; state: string };

/** Every container of the app this suite's daemons made, in any state. */
async function appContainers(): Promise<AppContainer[]> {
  const list = await docker.listContainers({
    all: true,
    filters: { label: [`glint.app=${APP}`, `glint.test.suite=${SUITE}`, `glint.test=${testRunId()}`] },
  });
  return list.map((c) => ({
    id: c.Id,
    instance: c.Labels['glint.instance'] ?? '',
    version: c.Labels['glint.version'] ?? '',
    state: c.State,
  }));
}

type Consistency = {
  containers: AppContainer[];
  servers: { name: string; state: string; checkPassed: boolean }[];
  registered: { instance: string; version: string }[];
};

async function observeConsistency(): Promise<Consistency> {
  const [containers, servers, registered] = await Promise.all([
    appContainers(),
    observer.servers(APP),
    new EtcdServiceRegistry(etcd!).list(APP),
  ]);
  return {
    containers: containers.sort((a, b) => a.instance.localeCompare(b.instance)),
    servers: servers
      .map((s) => ({ name: s.name, state: s.state, checkPassed: s.checkPassed }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    registered: registered
      .map((e) => ({ instance: e.instance, version: e.version }))
      .sort((a, b) => a.instance.localeCompare(b.instance)),
  };
}

/**
 * Consistent at `version`: exactly INSTANCES running containers, all of it; HAProxy's backend
 * holds exactly those, all ready with their check passed (no orphan either way); the service
 * registry lists exactly those at that version.
 */
function isConsistent(c: Consistency, version: string): boolean {
  const instances = c.containers.map((x) => x.instance);
  return (
    c.containers.length === INSTANCES &&
    c.containers.every((x) => x.state === 'running' && x.version === version) &&
    JSON.stringify(c.servers.map((s) => s.name)) === JSON.stringify(instances) &&
    c.servers.every((s) => s.state === 'ready' && s.checkPassed) &&
    JSON.stringify(c.registered) === JSON.stringify(instances.map((instance) => ({ instance, version })))
  );
}

async function untilConsistent(version: string, daemon: DaemonProcess, timeoutMs = 120_000) {
  let last: Consistency | undefined;
  return waitFor(
    async () => {
      last = await observeConsistency();
      return isConsistent(last, version) ? last : undefined;
    },
    { what: `${INSTANCES} instances of ${version} in Docker, HAProxy and etcd`, timeoutMs, intervalMs: 200 },
  ).catch((err: Error) => {
    throw new Error(
      `${err.message}; last seen ${JSON.stringify(last)}; daemon output: ${daemon.output().slice(-3000)}`,
    );
  });
}

/** Samples the app's container count every ~200 ms until stopped; returns the highest seen. */
function sampleContainerCount() {
  let stopped = false;
  let max = { count: 0, containers: [] as AppContainer[] };
  const loop = (async () => {
    while (!stopped) {
      const containers = await appContainers().catch(() => undefined);
      if (containers && containers.length > max.count) max = { count: containers.length, containers };
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return max;
    },
  };
}

const steps = (r: DeploymentRecord, kind: string, state?: string) =>
  r.steps.filter((s) => s.kind === kind && (state === undefined || s.state === state));

/**
 * Where to kill the daemon. `onRecord` sees every revision of the deployment record in order
 * (with the one before it), from an etcd watch, so a point that lasts a few milliseconds is not
 * missed; `probe` is polled with the newest record when the point also depends on Docker or
 * HAProxy. Either returns what was reached, or undefined.
 */
type KillPoint = {
  name: string;
  onRecord?: (r: DeploymentRecord, before: DeploymentRecord | undefined) => string | undefined;
  probe?: (r: DeploymentRecord) => Promise<string | undefined>;
};

const KILL_POINTS: KillPoint[] = [
  {
    name: 'after create: a start is recorded as running and its container exists',
    probe: async (r) => {
      const open = steps(r, 'start', 'running').map((s) => s.instance);
      if (open.length === 0) return undefined;
      const made = (await appContainers()).find((c) => open.includes(c.instance));
      return made ? `start of ${made.instance} running, its container ${made.state}` : undefined;
    },
  },
  {
    name: 'while staged: a new server sits in HAProxy in drain, not yet promoted',
    probe: async (r) => {
      const promoted = new Set(steps(r, 'promote').map((s) => s.instance));
      const staged = new Set(
        steps(r, 'start', 'succeeded')
          .map((s) => s.instance)
          .filter((i) => !promoted.has(i)),
      );
      if (staged.size === 0) return undefined;
      const server = (await observer.servers(APP)).find((s) => staged.has(s.name) && s.state === 'drain');
      return server ? `${server.name} staged (drain, check ${server.checkStatus})` : undefined;
    },
  },
  {
    name: 'after promote: a promote step has just succeeded',
    onRecord: (r, before) =>
      steps(r, 'promote', 'succeeded').length > (before ? steps(before, 'promote', 'succeeded').length : 0)
        ? `promote of ${steps(r, 'promote', 'succeeded').at(-1)?.instance} succeeded`
        : undefined,
  },
  {
    name: 'while draining: a retire step is running and its server is draining in HAProxy',
    probe: async (r) => {
      const retiring = new Set(steps(r, 'retire', 'running').map((s) => s.instance));
      if (retiring.size === 0) return undefined;
      const server = (await observer.servers(APP)).find((s) => retiring.has(s.name) && s.state === 'drain');
      return server
        ? `retire of ${server.name} running, draining with ${server.sessions} sessions`
        : undefined;
    },
  },
  {
    name: 'after stop: a retire step has just succeeded (its container is gone)',
    onRecord: (r, before) =>
      steps(r, 'retire', 'succeeded').length > (before ? steps(before, 'retire', 'succeeded').length : 0)
        ? `retire of ${steps(r, 'retire', 'succeeded').at(-1)?.instance} succeeded`
        : undefined,
  },
];

/**
 * Watches the app's deployment records from `fromRevision`, finds the deployment to `version`,
 * and SIGKILLs `daemon` the moment the kill point is reached. Returns the deployment id and what
 * was reached.
 */
async function killAt(
  point: KillPoint,
  daemon: DaemonProcess,
  version: string,
  fromRevision: number,
): Promise<{ id: string; reached: string; record: DeploymentRecord }> {
  let latest: DeploymentRecord | undefined;
  let settle: (v: { reached: string; record: DeploymentRecord }) => void = () => {};
  const reached = new Promise<{ reached: string; record: DeploymentRecord }>((resolve) => {
    settle = resolve;
  });
  let done = false;
  const hit = (what: string, record: DeploymentRecord) => {
    if (done) return;
    done = true;
    daemon.proc.kill('SIGKILL');
    settle({ reached: what, record });
  };
  const watch = etcd!.watchPrefix(etcd!.keys.deploymentsPrefix(APP), fromRevision, {
    onEvents: (events) => {
      for (const ev of events) {
        if (ev.type !== 'put' || done) continue;
        const record = JSON.parse(ev.kv.value) as DeploymentRecord;
        if (record.to.version !== version) continue;
        const what = point.onRecord?.(record, latest);
        latest = record;
        if (what) hit(what, record);
      }
    },
    onCompacted: () => {},
  });
  try {
    const polled = point.probe
      ? waitFor(
          async () => {
            if (done) return true;
            const r = latest;
            const what = r ? await point.probe!(r) : undefined;
            if (what && r) hit(what, r);
            return what ? true : undefined;
          },
          { what: `kill point "${point.name}"`, timeoutMs: 180_000, intervalMs: 20 },
        )
      : undefined;
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(
        () =>
          reject(
            new Error(
              `kill point "${point.name}" not reached in 180 s; daemon output: ${daemon.output().slice(-4000)}`,
            ),
          ),
        180_000,
      ).unref(),
    );
    const result = await Promise.race([reached, timeout, ...(polled ? [polled.then(() => reached)] : [])]);
    return { id: result.record.id, ...result };
  } finally {
    done = true;
    await watch.cancel();
  }
}

async function deploymentEnded(id: string, daemon: DaemonProcess): Promise<DeploymentRecord> {
  return waitFor(
    async () => {
      const r = (await store.getDeployment(APP, id))?.record;
      return r && ['succeeded', 'failed', 'rolled_back', 'cancelled'].includes(r.state) ? r : undefined;
    },
    { what: `deployment ${id} to end`, timeoutMs: 240_000, intervalMs: 250 },
  ).catch((err: Error) => {
    throw new Error(`${err.message}; daemon output: ${daemon.output().slice(-3000)}`);
  });
}

const stepsLine = (r: DeploymentRecord) =>
  r.steps.map((s) => `${s.seq}:${s.kind}:${s.instance}:${s.state}`).join(' ');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kr-'));
  mkdirSync(join(dir, 'haproxy'));
  declarationFile = join(dir, 'scheduler.config.ts');
  apiPort = await freePort();
  frontendPort = await freePort();
  etcdHandle = await startEtcd(SUITE);
  registry = await startDemoRegistry(SUITE);
  for (const v of VERSIONS) await pushDemoVersion(registry, 'demo-app', v);
  const parsed = validateConfig(declaration(VERSIONS[0]!));
  if (!parsed.ok) throw new Error(`test declaration is invalid: ${JSON.stringify(parsed.issues)}`);
  // The first file HAProxy starts from, as `npm start` has it before the daemon runs.
  ({ lb: observer } = await connectLoadBalancer(structureFromConfig(parsed.config, process.cwd()), {
    logger: silentLogger(),
    validator: new LocalBinaryValidator(),
  }));
  await startHaproxy(SUITE, join(dir, 'haproxy'));
  etcd = await connectEtcd({ endpoints: [etcdHandle.endpoint], prefix: '/glint' });
  store = new EtcdStateStore(etcd);

  writeDeclaration(VERSIONS[0]!);
  const daemon = startDaemon();
  await untilConsistent(VERSIONS[0]!, daemon, 180_000);
}, 420_000);

afterAll(async () => {
  for (const d of daemons) await killDaemon(d);
  etcd?.close();
  await removeTestContainers({ runId: testRunId(), suite: SUITE });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe(`SIGKILL of the daemon during a ${INSTANCES}-instance rollout, restarted, ends consistent with no client error`, () => {
  KILL_POINTS.forEach((point, i) => {
    const from = VERSIONS[i]!;
    const to = VERSIONS[i + 1]!;
    it(`${point.name} (${from} → ${to})`, { timeout: 600_000 }, async () => {
      const daemon = daemons.at(-1)!;
      const load = startLoad({
        url: `http://127.0.0.1:${frontendPort}/`,
        ...ROLLOUT_LOAD,
        rate: 150,
        maxDurationSec: 600,
      });
      const surge = sampleContainerCount();
      try {
        const { revision } = await etcd!.list(etcd!.keys.deploymentsPrefix(APP));
        writeDeclaration(to);
        daemon.proc.kill('SIGHUP');
        const killed = await killAt(point, daemon, to, revision + 1);
        await daemon.exited;
        const killedAt = Date.now();
        console.log(`[${point.name}] killed: ${killed.reached}; steps then: ${stepsLine(killed.record)}`);

        const restarted = startDaemon();
        const ended = await deploymentEnded(killed.id, restarted);
        const consistent = await untilConsistent(to, restarted);
        console.log(
          `[${point.name}] consistent ${((Date.now() - killedAt) / 1000).toFixed(1)}s after the kill; steps: ${stepsLine(ended)}`,
        );
        expect({ state: ended.state, error: ended.error }).toEqual({ state: 'succeeded', error: undefined });
        expect(ended.steps.filter((s) => s.state === 'running')).toEqual([]);
        expect(consistent.containers.map((c) => c.version)).toEqual(Array(INSTANCES).fill(to));
      } finally {
        load.stop();
        await surge.stop();
      }
      const max = await surge.stop();
      const summary = await load.result;
      console.log(formatLoad(`[${point.name}] load`, summary));
      console.log(`[${point.name}] most containers at once: ${max.count}`);
      expect(max.count, JSON.stringify(max.containers)).toBeLessThanOrEqual(INSTANCES + MAX_SURGE);
      expectEveryRequestAnswered(summary, { atLeast: 301 });
    });
  });
});

describe('a daemon restarted with nothing changed', () => {
  it('adopts every instance as it runs: no container replaced, no deployment started', {
    timeout: 300_000,
  }, async () => {
    const version = VERSIONS.at(-1)!;
    const stopping = daemons.at(-1)!;
    const before = await untilConsistent(version, stopping);
    const deploymentsBefore = (await store.listDeployments(APP, { limit: 50 })).map((r) => r.id);
    const load = startLoad({
      url: `http://127.0.0.1:${frontendPort}/`,
      ...ROLLOUT_LOAD,
      rate: 150,
      maxDurationSec: 300,
    });
    try {
      // As Ctrl-C or a supervisor's stop: SIGTERM, and the instances keep serving meanwhile.
      stopping.proc.kill('SIGTERM');
      expect(await stopping.exited).toBe(0);
      const restarted = startDaemon();
      // The leader logs what it did with each app once it has compared it with the declaration.
      await waitFor(
        async () =>
          /"app":"killres","action":"(kept|deployment|busy|error)"/.exec(restarted.output())
            ? true
            : undefined,
        { what: 'the restarted daemon to compare the app with its declaration', timeoutMs: 120_000 },
      ).catch((err: Error) => {
        throw new Error(`${err.message}; daemon output: ${restarted.output().slice(-3000)}`);
      });
      expect(restarted.output()).toMatch(/"app":"killres","action":"kept"/);
      // Registered again under the new daemon's lease, in HAProxy as before.
      const after = await untilConsistent(version, restarted);
      expect(after.containers.map((c) => c.id)).toEqual(before.containers.map((c) => c.id));
      // Each reached at its container IP and app port, in HAProxy and in the registry alike.
      const byIp = new Map<string, string>();
      for (const c of after.containers)
        byIp.set(
          c.instance,
          `${networkIp((await docker.getContainer(c.id).inspect()).NetworkSettings)}:8080`,
        );
      const servers = await observer.runtime.backendServersState(`be_${APP}`);
      expect(new Map(servers.map((s) => [s.name, `${s.address}:${s.port}`]))).toEqual(byIp);
      const entries = await new EtcdServiceRegistry(etcd!).list(APP);
      expect(new Map(entries.map((e) => [e.instance, `${e.host}:${e.port}`]))).toEqual(byIp);
      const deploymentsAfter = (await store.listDeployments(APP, { limit: 50 })).map((r) => r.id);
      expect(deploymentsAfter).toEqual(deploymentsBefore);
    } finally {
      load.stop();
    }
    const summary = await load.result;
    console.log(formatLoad('[restart with nothing changed] load', summary));
    // A restart is over in about a second: the load ran through it (a fifth of a second at 150/s).
    expectEveryRequestAnswered(summary, { atLeast: 30 });
  });
});
