/**
 * Docker Swarm and glint side by side, in one run, on this machine: the same demo image from the
 * same local registry, the same HTTP health check (/healthz every 1 s, timeout 1 s, healthy after
 * 1 success, unhealthy after 3 failures: Docker's HEALTHCHECK knows no success threshold, so
 * glint's is set to 1), the same wait once new tasks are healthy (Swarm's --update-monitor =
 * glint's minHealthyTime), the same load (wrk, 16 keep-alive connections, against the HAProxy in
 * front of each side for the whole update). 3 replicas, new before old, two updates per side:
 *
 *   one at a time  Swarm --update-order start-first --update-parallelism 1 (what a user runs:
 *                  start-first and Swarm's default parallelism); glint maxSurge 1, maxUnavailable 0
 *   all at once    Swarm --update-parallelism 0; glint maxSurge 100%, maxUnavailable 0 (Marathon's
 *                  default upgrade: every new instance started together, old ones drained once
 *                  the new ones are ready)
 *
 * Swarm's routing mesh does not work on a kernel without IPVS, so its tasks publish in host mode
 * on random ports and an HAProxy follows the service: a loop in this process lists the service's
 * tasks every 100 ms and, when the set of running tasks changes, rewrites haproxy.cfg and reloads
 * HAProxy through its master socket. That is the best a Swarm user can do here; it reacts after
 * Swarm has already acted (a task told to stop may still be in the file for up to one poll).
 *
 * `--network host` runs glint's app in the host's network (`network: 'host'`: a port picked per
 * instance, passed as PORT): no network namespace or bridge link to make at start or undo at
 * stop. Swarm can't run a start-first update that way: its tasks take their port from the image,
 * so the new task's port is the one the old task still listens on. Swarm's side is the same in
 * both runs.
 *
 *   npx tsx bench/rollout-vs-swarm.ts [--connections 16] [--min-healthy 1s]
 *     [--address-mode host|container] [--network bridge|host]
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { parseDuration } from '../src/config/duration.ts';
import type { DeploymentRecord } from '../src/etcd/index.ts';
import { removeTestContainers } from '../test/support/cleanup.ts';
import { forgetRegistryImages } from '../test/support/demo-registry.ts';
import { freePort } from '../test/support/free-port.ts';
import { startHaproxy } from '../test/support/haproxy-container.ts';
import { type RolloutStack, startRolloutStack } from '../test/support/rollout-stack.ts';
import { waitFor } from '../test/support/wait-for.ts';
import { addressModeArg, networkArg } from './support/bench-run.ts';
import { formatWrk, killWrks, startWrk, type WrkSummary } from './support/wrk-load.ts';

const SUITE = 'bench-rollout-vs-swarm';
process.env.GLINT_TEST_RUN ??= `bench-${randomUUID().slice(0, 8)}`;
process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
process.env.TESTCONTAINERS_HOST_OVERRIDE = '127.0.0.1';
const RUN = process.env.GLINT_TEST_RUN;

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const CONNECTIONS = Number(arg('connections', '16'));
const MIN_HEALTHY = arg('min-healthy', '1s');
const ADDRESS_MODE = addressModeArg();
const NETWORK = networkArg();
if (parseDuration(MIN_HEALTHY) === undefined)
  throw new Error(`--min-healthy ${MIN_HEALTHY} is not a duration`);
/** wrk stops by itself after this long, should the update never end. */
const LOAD_CAP_SECONDS = 180;
/** Load runs this long before the update starts and after it ends. */
const LOAD_MARGIN_MS = 500;
const SERVICE = `glint-bench-${RUN}`;
const HEALTH_WGET = 'wget -q -O /dev/null http://127.0.0.1:8080/healthz';
const HEALTH_NODE =
  "node -e \"require('http').get('http://127.0.0.1:8080/healthz',r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))\"";

/**
 * Swarm's check runs inside the container. wget when the image has it (the local node stand-in
 * carries busybox): a `node -e` check spawns a Node process per check, which on two busy cores
 * overran the 1 s timeout and made Swarm kill healthy tasks. node:20-slim from Docker Hub has
 * neither wget nor curl, hence the fallback.
 */
async function healthCommand(image: string): Promise<string> {
  const probe = await run('docker', [
    'run',
    '--rm',
    '--entrypoint',
    'sh',
    image,
    '-c',
    'command -v wget',
  ]).catch(() => undefined);
  return probe?.stdout.trim() ? HEALTH_WGET : HEALTH_NODE;
}

const run = promisify(execFile);
const docker = new Docker();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Side = { name: string; wallMs: number; load: WrkSummary; loadCommand: string; note: string };

// ---- cleanup, idempotent, also from signal handlers -------------------------------------

const undo: (() => Promise<unknown>)[] = [];
let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    killWrks();
    for (const step of undo.reverse()) await step().catch((err) => console.error(`cleanup: ${err}`));
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    void cleanup().finally(() => process.exit(130));
  });

// ---- Swarm side -------------------------------------------------------------------------

type Task = { id: string; port: number };

async function runningTasks(): Promise<Task[]> {
  const tasks = (await docker.listTasks({ filters: { service: [SERVICE] } })) as {
    ID: string;
    DesiredState: string;
    Status?: { State?: string; PortStatus?: { Ports?: { TargetPort: number; PublishedPort: number }[] } };
  }[];
  return tasks
    .filter((t) => t.DesiredState === 'running' && t.Status?.State === 'running')
    .map((t) => ({
      id: t.ID,
      port: t.Status?.PortStatus?.Ports?.find((p) => p.TargetPort === 8080)?.PublishedPort ?? 0,
    }))
    .filter((t) => t.port > 0)
    .sort((a, b) => a.id.localeCompare(b.id));
}

/** The same defaults, check and retry policy glint renders, so only the orchestration differs. */
function swarmHaproxyConfig(frontendPort: number, tasks: Task[]): string {
  const servers = tasks.map(
    (t) => `  server ${t.id.slice(0, 12)} 127.0.0.1:${t.port} check inter 1s rise 1 fall 3`,
  );
  return `global
  master-worker
  hard-stop-after 30s

defaults
  mode http
  option idle-close-on-response
  option http-keep-alive
  retries 3
  option redispatch 1
  retry-on conn-failure empty-response
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  timeout http-request 10s
  timeout http-keep-alive 10s
  timeout queue 5s

frontend swarm
  bind 127.0.0.1:${frontendPort}
  default_backend swarm

backend swarm
  balance roundrobin
  http-request disable-l7-retry if METH_POST || { method PUT PATCH DELETE }
  option httpchk
  http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host localhost
  http-check expect status 200-399
  timeout check 1s
${servers.join('\n')}
`;
}

function masterCommand(socket: string, command: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const conn = createConnection({ path: socket }, () => conn.end(`${command}\n`));
    conn.on('error', reject);
    conn.on('close', () => resolve());
    conn.resume();
  });
}

/** Follows the service's running tasks into HAProxy; returns how to stop it and how many reloads. */
function followService(runDir: string, frontendPort: number, initial: Task[]) {
  let applied = JSON.stringify(initial);
  let reloads = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await sleep(100);
      const tasks = await runningTasks().catch(() => undefined);
      if (!tasks || tasks.length === 0 || JSON.stringify(tasks) === applied) continue;
      writeFileSync(join(runDir, 'haproxy.cfg'), swarmHaproxyConfig(frontendPort, tasks));
      // The master socket refuses connections for a moment after a reload: try again next poll.
      const ok = await masterCommand(join(runDir, 'master.sock'), 'reload').then(
        () => true,
        () => false,
      );
      if (ok) {
        applied = JSON.stringify(tasks);
        reloads++;
      }
    }
  })();
  return {
    reloads: () => reloads,
    stop: async () => {
      stopped = true;
      await loop;
      return reloads;
    },
  };
}

type Strategy = 'one at a time' | 'all at once';
const STRATEGIES: Strategy[] = ['one at a time', 'all at once'];

type SwarmService = { url: string; healthCmd: string; follower: ReturnType<typeof followService> };

async function startSwarmService(image: string): Promise<SwarmService> {
  const state = (await run('docker', ['info', '--format', '{{.Swarm.LocalNodeState}}'])).stdout.trim();
  if (state !== 'inactive')
    throw new Error(`this engine is already in a swarm (${state}); the bench only uses a swarm it starts`);
  const hadGwbridge = (await docker.listNetworks({ filters: { name: ['docker_gwbridge'] } })).length > 0;
  const healthCmd = await healthCommand(image);
  await run('docker', ['swarm', 'init', '--advertise-addr', '127.0.0.1']);
  undo.push(async () => {
    await run('docker', ['swarm', 'leave', '--force']);
    if (!hadGwbridge) await docker.getNetwork('docker_gwbridge').remove();
  });

  await run('docker', [
    'service',
    'create',
    '--detach',
    '--name',
    SERVICE,
    '--replicas',
    '3',
    '--update-order',
    'start-first',
    '--update-monitor',
    MIN_HEALTHY,
    '--health-cmd',
    healthCmd,
    '--health-interval',
    '1s',
    '--health-timeout',
    '1s',
    '--health-retries',
    '3',
    '--publish',
    'mode=host,target=8080',
    '--container-label',
    `glint.test=${RUN}`,
    '--container-label',
    `glint.test.suite=${SUITE}`,
    image,
  ]);
  undo.push(async () => {
    await run('docker', ['service', 'rm', SERVICE]);
    await waitFor(
      async () =>
        (
          await docker.listContainers({
            all: true,
            filters: { label: [`com.docker.swarm.service.name=${SERVICE}`] },
          })
        ).length === 0
          ? true
          : undefined,
      { what: 'the service containers to be removed', timeoutMs: 60_000 },
    );
  });
  const initial = await waitFor(
    async () => {
      const tasks = await runningTasks();
      return tasks.length === 3 ? tasks : undefined;
    },
    { what: '3 running swarm tasks', timeoutMs: 120_000 },
  );

  const runDir = mkdtempSync(join(tmpdir(), 'glint-bench-swarm-lb-'));
  undo.push(async () => rmSync(runDir, { recursive: true, force: true }));
  const frontendPort = await freePort();
  writeFileSync(join(runDir, 'haproxy.cfg'), swarmHaproxyConfig(frontendPort, initial));
  const haproxy = await startHaproxy(SUITE, runDir);
  undo.push(() => haproxy.container.stop({ remove: true }));
  const url = `http://127.0.0.1:${frontendPort}/`;
  await waitFor(async () => ((await fetch(url)).ok ? true : undefined), {
    what: 'HAProxy in front of the swarm',
  });
  const follower = followService(runDir, frontendPort, initial);
  undo.push(() => follower.stop());
  return { url, healthCmd, follower };
}

async function swarmUpdate(
  service: SwarmService,
  to: { image: string; version: string },
  strategy: Strategy,
): Promise<Side> {
  const parallelism = strategy === 'one at a time' ? '1' : '0';
  const reloadsBefore = service.follower.reloads();
  const load = startWrk(service.url, { connections: CONNECTIONS, maxSeconds: LOAD_CAP_SECONDS });
  await sleep(LOAD_MARGIN_MS);
  const t0 = performance.now();
  await run(
    'docker',
    ['service', 'update', '--update-parallelism', parallelism, '--image', to.image, SERVICE],
    {
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const wallMs = performance.now() - t0;
  await sleep(LOAD_MARGIN_MS);
  const summary = await load.stop();

  const inspect = JSON.parse((await run('docker', ['service', 'inspect', SERVICE])).stdout)[0] as {
    UpdateStatus?: { State: string; StartedAt: string; CompletedAt?: string };
  };
  const u = inspect.UpdateStatus;
  const updateMs = u?.CompletedAt ? Date.parse(u.CompletedAt) - Date.parse(u.StartedAt) : Number.NaN;
  const versions = await Promise.all((await runningTasks()).map((t) => versionAt(t.port)));
  if (!versions.every((v) => v === to.version)) throw new Error(`swarm ended on ${versions.join(', ')}`);
  return {
    name: 'Docker Swarm',
    wallMs,
    load: summary,
    loadCommand: load.command,
    note: `\`docker service update --update-parallelism ${parallelism}\` wall time; health-cmd \`${service.healthCmd}\`; Swarm's UpdateStatus says ${u?.State ?? '?'} after ${(updateMs / 1000).toFixed(2)} s; the HAProxy follower reloaded ${service.follower.reloads() - reloadsBefore} times`,
  };
}

async function versionAt(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/version`, { headers: { connection: 'close' } });
  return ((await res.json()) as { version: string }).version;
}

// ---- glint side -------------------------------------------------------------------------

function finishedEvent(stack: RolloutStack) {
  const seen = new Map<string, DeploymentRecord>();
  const waiters = new Map<string, (r: DeploymentRecord) => void>();
  stack.engine.events.on('deployment:finished', (r) => {
    const at = { ...r };
    seen.set(r.id, at);
    waiters.get(r.id)?.(at);
  });
  return (id: string) =>
    new Promise<DeploymentRecord>((resolve, reject) => {
      const done = seen.get(id);
      if (done) return resolve(done);
      const timer = setTimeout(() => reject(new Error(`deployment ${id} did not finish in 240 s`)), 240_000);
      waiters.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
}

async function glintDeploy(
  stack: RolloutStack,
  finished: ReturnType<typeof finishedEvent>,
  version: string,
  strategy: Strategy,
): Promise<Side> {
  const maxSurge = strategy === 'one at a time' ? 1 : '100%';
  // The engine snapshots the app's strategy when a deployment starts.
  const web = stack.config.apps.web!;
  web.strategy = { ...web.strategy, maxSurge, maxUnavailable: 0 };
  const url = `http://127.0.0.1:${stack.frontendPort}/`;
  const load = startWrk(url, { connections: CONNECTIONS, maxSeconds: LOAD_CAP_SECONDS });
  await sleep(LOAD_MARGIN_MS);
  const t0 = performance.now();
  const t0Epoch = Date.now();
  const started = await stack.engine.startDeployment('web', { kind: 'deploy', version });
  const done = await finished(started.id);
  const wallMs = performance.now() - t0;
  await sleep(LOAD_MARGIN_MS);
  const summary = await load.stop();
  if (done.state !== 'succeeded')
    throw new Error(`glint's deploy of ${version} ended ${done.state}: ${done.error?.message}`);
  return {
    name: 'glint',
    wallMs,
    load: summary,
    loadCommand: load.command,
    note: `startDeployment until the record is succeeded; maxSurge ${maxSurge}; ${done.steps.length} steps: ${stepTimeline(done, t0Epoch)}`,
  };
}

/** Each step as kind and seconds from the deploy call to its start and end, in the record's order. */
function stepTimeline(record: DeploymentRecord, t0Epoch: number): string {
  const at = (iso: string | undefined) => (iso ? ((Date.parse(iso) - t0Epoch) / 1000).toFixed(2) : '?');
  return record.steps.map((st) => `${st.kind} ${at(st.startedAt)}–${at(st.finishedAt)}`).join(', ');
}

// ---- main -------------------------------------------------------------------------------

async function main(): Promise<void> {
  const minHealthyMs = parseDuration(MIN_HEALTHY)!;
  const stack = await startRolloutStack(
    SUITE,
    (frontendPort) => ({
      image: 'unused',
      version: '1.0.0',
      instances: 3,
      port: 8080,
      network: NETWORK,
      health: {
        type: 'http',
        path: '/healthz',
        interval: '1s',
        timeout: '1s',
        healthyThreshold: 1,
        unhealthyThreshold: 3,
      },
      strategy: { maxSurge: 1, maxUnavailable: 0, minHealthyTime: MIN_HEALTHY },
      routing: { frontendPort },
    }),
    'web',
    {},
    { addressMode: ADDRESS_MODE },
  );
  undo.push(async () => {
    await stack.close();
    await forgetRegistryImages(stack.registry.host);
  });
  await stack.push('1.0.0');
  await stack.push('1.1.0');
  const images = {
    from: `${stack.registry.host}/demo-app:1.0.0`,
    to: `${stack.registry.host}/demo-app:1.1.0`,
  };

  // Both updates per side go 1.0.0 → 1.1.0 → 1.0.0, so each starts from 3 running replicas.
  const targets = [
    { image: images.to, version: '1.1.0' },
    { image: images.from, version: '1.0.0' },
  ];
  const service = await startSwarmService(images.from);
  const swarm: Side[] = [];
  for (const [i, strategy] of STRATEGIES.entries())
    swarm.push(await swarmUpdate(service, targets[i]!, strategy));
  // Swarm leaves before glint runs, so the two never share the two cores.
  while (undo.length > 1) await undo.pop()!().catch((err) => console.error(`cleanup: ${err}`));

  const finished = finishedEvent(stack);
  const first = await stack.engine.startDeployment('web', { kind: 'deploy', version: '1.0.0' });
  const before = await finished(first.id);
  if (before.state !== 'succeeded') throw new Error(`glint's first deploy ended ${before.state}`);
  const glint: Side[] = [];
  for (const [i, strategy] of STRATEGIES.entries())
    glint.push(await glintDeploy(stack, finished, targets[i]!.version, strategy));

  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const engine = (await docker.version()).Version;
  console.log(
    `rolling update of 3 replicas, demo app, new before old; health /healthz every 1 s, ` +
      `1 success / 3 failures; ${MIN_HEALTHY} healthy before going on; wrk ${CONNECTIONS} connections through HAProxy (Docker ${engine}); glint's app in the ${NETWORK === 'host' ? "host's network" : 'bridge network'}:`,
  );
  for (const [i, strategy] of STRATEGIES.entries()) {
    console.log(`  ${strategy}:`);
    for (const side of [swarm[i]!, glint[i]!]) {
      console.log(`    ${side.name.padEnd(13)} ${s(side.wallMs).padStart(8)}   ${formatWrk(side.load)}`);
      console.log(`    ${''.padEnd(13)} ${''.padStart(8)}   (${side.note})`);
    }
  }
  const ratio = (g: Side, w: Side) => {
    const r = g.wallMs / w.wallMs;
    return `${r.toFixed(2)} (goal ≤ 0.50: ${r <= 0.5 ? 'met' : 'NOT met'})`;
  };
  const [swarmOne, swarmAll] = swarm as [Side, Side];
  const [glintOne, glintAll] = glint as [Side, Side];
  console.log('  glint / Swarm wall time:');
  console.log(`    like for like, one at a time:          ${ratio(glintOne, swarmOne)}`);
  console.log(`    like for like, all at once:            ${ratio(glintAll, swarmAll)}`);
  console.log(`    Swarm as a user runs it vs glint 100%: ${ratio(glintAll, swarmOne)}`);
  const errors = (sides: Side[]) => sides.map((x) => x.load.errors).join(' + ');
  const glintErrors = glint.reduce((n, x) => n + x.load.errors, 0);
  console.log(
    `  client errors: Swarm ${errors(swarm)}, glint ${errors(glint)} (goal 0: ${glintErrors === 0 ? 'met' : 'NOT met'})`,
  );
  console.log(
    `  (minHealthyTime ${minHealthyMs} ms counts per batch in glint, once at the end in Swarm's --update-monitor)`,
  );
  console.log(`  load: ${swarmOne.loadCommand} (each update, each side)`);
  console.log(
    `command: npx tsx bench/rollout-vs-swarm.ts --connections ${CONNECTIONS} --min-healthy ${MIN_HEALTHY} --address-mode ${ADDRESS_MODE} --network ${NETWORK}`,
  );
}

try {
  await main();
} finally {
  await cleanup();
  await removeTestContainers({ runId: RUN, suite: SUITE });
}
