/**
 * What a second Docker engine changes, measured on one real daemon beside a second real engine
 * in a network namespace (test/support/second-engine.ts):
 *
 * 1. Rollout wall time of 6 instances on one engine against 6 spread 3/3 over two: two apps of
 *    the same image, health check (HTTP /healthz every 2 s, 1 pass, 2 s timeout) and strategy (maxSurge 2,
 *    maxUnavailable 0, minHealthyTime `--min-healthy`), one pinned by `name=local`, the other
 *    free. Each run deploys both 1.0.0 ↔ 1.1.0 through the API one after the other (never side
 *    by side; the one going first alternates), timed from the POST to the end `?wait=` reports,
 *    and by the record's own createdAt → finishedAt.
 * 2. An engine lost with 6 instances spread 3/3 on it and the local one: the second engine is
 *    SIGKILLed whole, then kill → GET /v1/nodes says `down` (and the `since` the daemon gives
 *    it), and kill → 6 ready instances again, all on the local engine, under light load
 *    (32 connections, 150 requests/s) whose client errors are printed as an observation. Between
 *    losses the engine is restarted, its leftovers removed and a rotation spreads the app again.
 *
 *   npx tsx bench/multi-engine.ts [--runs 3] [--losses 1] [--down-after 4s] [--ping 1s] [--min-healthy 1s]
 */
import { join } from 'node:path';
import Docker from 'dockerode';
import type { GlintConfigInput } from '../src/config/index.ts';
import { type DaemonStack, type DaemonStackContext, startDaemonStack } from '../test/support/daemon-stack.ts';
import { formatLoad, startLoad } from '../test/support/http-load.ts';
import { testLabels } from '../test/support/labels.ts';
import { type SecondEngine, startSecondEngine } from '../test/support/second-engine.ts';
import { waitFor } from '../test/support/wait-for.ts';
import { benchArg, prepareBenchRun } from './support/bench-run.ts';

const SUITE = 'bench-multi-engine';
prepareBenchRun();
const RUNS = Number(benchArg('runs', '3'));
const LOSSES = Number(benchArg('losses', '1'));
const DOWN_AFTER = benchArg('down-after', '4s');
const PING = benchArg('ping', '1s');
const MIN_HEALTHY = benchArg('min-healthy', '1s');
const COUNT = 6;
const LOCAL = 'local';
const REMOTE = 'node-b';
// Names of this bench's own: a glint daemon takes every container of its app names on an engine.
const PINNED = 'mebench-one';
const SPREAD = 'mebench-two';
const VERSIONS = ['1.0.0', '1.1.0'] as const;
// A busy 2-core machine: a rollout of 6 or a heal can take minutes when other work runs.
const DEADLINE_MS = 600_000;

type Instance = { id: string; node: string; health: string; version: string };
type Deployment = { id: string; state: string; createdAt: string; finishedAt?: string };
type NodeView = { name: string; state: string; since: string; instances: number | null };

function declaration(ctx: DaemonStackContext, remote: SecondEngine): GlintConfigInput {
  const app = (frontendPort: number, constraints: string[]) => ({
    image: `${ctx.registryHost}/demo-app`,
    version: VERSIONS[0],
    instances: COUNT,
    port: 8080,
    labels: testLabels(SUITE),
    // A timeout well above an answer's usual few ms (and at most the interval, as the config
    // check asks): on a machine saturated by other work a 500 ms one failed the first
    // deployment of both apps.
    health: {
      type: 'http',
      path: '/healthz',
      interval: '2s',
      timeout: '2s',
      healthyThreshold: 1,
      unhealthyThreshold: 3,
    } as const,
    strategy: {
      maxSurge: 2,
      maxUnavailable: 0,
      minHealthyTime: MIN_HEALTHY,
      healthyDeadline: '120s',
      drainTimeout: '2s',
      stopTimeout: '3s',
    },
    ...(constraints.length ? { placement: { constraints } } : {}),
    // The demo's POST /echo is idempotent: HAProxy may resend one whose instance was lost.
    routing: { frontendPort, retryWrites: true },
  });
  return {
    docker: {
      endpoints: [
        { name: LOCAL, socketPath: '/var/run/docker.sock', hostIp: '127.0.0.1' },
        {
          name: REMOTE,
          url: remote.url.replace(/^http:/, 'tcp:'),
          insecure: true,
          hostIp: remote.hostIp,
          serviceAddress: remote.hostSideAddress,
        },
      ],
      pingInterval: PING,
      nodeDownAfter: DOWN_AFTER,
    },
    // Long enough that a daemon stalled by other work on the machine keeps its leadership: a
    // failover in the middle would be measured as part of a rollout or a heal.
    etcd: { endpoints: [ctx.etcdEndpoint], leaseTtl: '10s' },
    registries: { [ctx.registryHost]: { insecure: true } },
    haproxy: { runDir: join(ctx.dir, 'haproxy') },
    api: { listen: `127.0.0.1:${ctx.apiPort}`, tokenFile: join(ctx.dir, 'api-token') },
    reconcile: { interval: '2s' },
    apps: {
      [PINNED]: app(ctx.ports[0]!, [`name=${LOCAL}`]),
      [SPREAD]: app(ctx.ports[1]!, []),
    },
  };
}

const byNode = (list: Instance[]) => {
  const out: Record<string, number> = {};
  for (const i of list) out[i.node] = (out[i.node] ?? 0) + 1;
  return out;
};
const spreadText = (list: Instance[]) =>
  Object.entries(byNode(list))
    .map(([node, n]) => `${node} ${n}`)
    .join(', ');
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** The app's instances once `COUNT` are ready and none else, with no deployment active unless allowed. */
function settled(
  stack: DaemonStack,
  app: string,
  what: string,
  opts: { accept?: (list: Instance[]) => boolean; duringDeployment?: boolean; intervalMs?: number } = {},
): Promise<Instance[]> {
  return waitFor(
    async () => {
      // While an engine is unreachable but not yet down, the answer may be an error.
      const state = (await stack.call('GET', `/v1/apps/${app}`).catch(() => undefined))?.json;
      const list: Instance[] | undefined = state?.instances?.list;
      if (!list) return undefined;
      return (opts.duringDeployment || !state.activeDeployment) &&
        list.length === COUNT &&
        list.every((i) => i.health === 'ready') &&
        (opts.accept ?? (() => true))(list)
        ? list
        : undefined;
    },
    { timeoutMs: DEADLINE_MS, intervalMs: opts.intervalMs ?? 250, what },
  ).catch((e: Error) => stack.withOutput(e));
}

/** Fails at once when the declaration's first deployment of `app` does not succeed: nothing retries it. */
async function firstRelease(stack: DaemonStack, app: string) {
  const first = await waitFor(
    async () => {
      const list: Array<Deployment & { error?: unknown }> = (
        await stack.call('GET', `/v1/deployments?app=${app}`)
      ).json.deployments;
      const ended = list.find((d) => !['pending', 'running', 'paused', 'rolling_back'].includes(d.state));
      return ended;
    },
    { timeoutMs: DEADLINE_MS, intervalMs: 500, what: `${app}: its first deployment ended` },
  ).catch((e: Error) => stack.withOutput(e));
  if (first.state !== 'succeeded')
    throw new Error(`${app}: its first deployment ended ${first.state}: ${JSON.stringify(first.error)}`);
}

async function nodeView(stack: DaemonStack, name: string): Promise<NodeView | undefined> {
  const nodes: NodeView[] | undefined = (await stack.call('GET', '/v1/nodes').catch(() => undefined))?.json
    ?.nodes;
  return nodes?.find((n) => n.name === name);
}

type RolloutRun = { app: string; version: string; wallMs: number; recordMs?: number; spread: string };

/** Deploys `version` of `app` through the API; the POST → end wall time and the record's own span. */
async function timedDeploy(stack: DaemonStack, app: string, version: string): Promise<RolloutRun> {
  await settled(stack, app, `${app}: ${COUNT} ready instances before the deployment of ${version}`);
  const postedAt = Date.now();
  const started = await stack.call('POST', `/v1/apps/${app}/deployments`, { body: { version } });
  if (started.status !== 202)
    throw new Error(`deploying ${app} ${version}: ${started.status} ${JSON.stringify(started.json)}`);
  let record: Deployment = started.json;
  while (record.state !== 'succeeded') {
    if (['failed', 'rolled_back', 'cancelled'].includes(record.state))
      throw new Error(
        `deployment ${record.id} of ${app} ${version} ended ${record.state}: ${JSON.stringify(record)}`,
      );
    if (Date.now() - postedAt > DEADLINE_MS) throw new Error(`deployment ${record.id} still ${record.state}`);
    record = (await stack.call('GET', `/v1/deployments/${started.json.id}?wait=120`)).json;
  }
  const wallMs = Date.now() - postedAt;
  const list = await settled(stack, app, `${app}: ${COUNT} ready instances of ${version}`, {
    accept: (l) => l.every((i) => i.version === version),
  });
  return {
    app,
    version,
    wallMs,
    ...(record.finishedAt ? { recordMs: Date.parse(record.finishedAt) - Date.parse(record.createdAt) } : {}),
    spread: spreadText(list),
  };
}

async function rollouts(stack: DaemonStack) {
  const rows: RolloutRun[] = [];
  for (let r = 0; r < RUNS; r++) {
    const version = VERSIONS[(r + 1) % 2]!;
    // Alternating which goes first, so neither always inherits the other's leftover work.
    const order = r % 2 === 0 ? [PINNED, SPREAD] : [SPREAD, PINNED];
    for (const app of order) {
      const row = await timedDeploy(stack, app, version);
      rows.push(row);
      console.log(
        `run ${r + 1}: ${app === PINNED ? 'one engine ' : 'two engines'} → ${version}: POST → end ${seconds(row.wallMs)}` +
          `${row.recordMs === undefined ? '' : `, record createdAt → finishedAt ${seconds(row.recordMs)}`} (${row.spread})`,
      );
    }
  }
  for (const [app, label] of [
    [PINNED, `${COUNT} instances on one engine (name=${LOCAL})`],
    [SPREAD, `${COUNT} instances over two engines`],
  ] as const) {
    const mine = rows.filter((x) => x.app === app);
    const records = mine.flatMap((x) => (x.recordMs === undefined ? [] : [x.recordMs]));
    console.log(
      `rollout of ${label}, maxSurge 2, maxUnavailable 0, minHealthyTime ${MIN_HEALTHY}, ${RUNS} runs: ` +
        `POST → end median ${seconds(median(mine.map((x) => x.wallMs)))} ` +
        `(${mine.map((x) => seconds(x.wallMs)).join(', ')})` +
        (records.length
          ? `; record median ${seconds(median(records))} (${records.map(seconds).join(', ')})`
          : ''),
    );
  }
}

/** Until the app runs 3 and 3 again: a rotation places the new instances by the spread rule. */
async function spreadAgain(stack: DaemonStack) {
  const both = (l: Instance[]) => byNode(l)[LOCAL] === COUNT / 2 && byNode(l)[REMOTE] === COUNT / 2;
  const now = await settled(stack, SPREAD, `${SPREAD} settled`);
  if (both(now)) return;
  const rotated = await stack.call('POST', `/v1/apps/${SPREAD}/rotations`, { body: {} });
  if (rotated.status !== 202)
    throw new Error(`rotating ${SPREAD}: ${rotated.status} ${JSON.stringify(rotated.json)}`);
  await stack.call('GET', `/v1/deployments/${rotated.json.id}?wait=240`);
  await settled(stack, SPREAD, `${SPREAD} spread 3/3 over both engines`, { accept: both });
}

async function engineLosses(stack: DaemonStack, remote: SecondEngine) {
  const rows: Array<{ downMs: number; sinceMs: number; readyMs: number }> = [];
  for (let k = 0; k < LOSSES; k++) {
    if (k > 0) {
      await remote.restart();
      await waitFor(
        async () => {
          const left = await new Docker({ socketPath: remote.socketPath }).listContainers({
            all: true,
            filters: { label: [`glint.app=${SPREAD}`] },
          });
          return left.length === 0 && (await nodeView(stack, REMOTE))?.state === 'up' ? true : undefined;
        },
        { timeoutMs: DEADLINE_MS, intervalMs: 500, what: `${REMOTE} up again, glint's leftovers removed` },
      ).catch((e: Error) => stack.withOutput(e));
    }
    await spreadAgain(stack);
    const traffic = startLoad({
      url: `http://127.0.0.1:${stack.ports[1]}/`,
      connections: 32,
      rate: 150,
      maxDurationSec: 600,
      newConnectionShare: 0.3,
      postShare: 0.3,
    });
    let row: (typeof rows)[number];
    try {
      const killedAt = Date.now();
      await remote.kill();
      const down = await waitFor(
        async () => {
          const node = await nodeView(stack, REMOTE);
          return node?.state === 'down' ? { at: Date.now(), since: Date.parse(node.since) } : undefined;
        },
        { timeoutMs: DEADLINE_MS, intervalMs: 100, what: `${REMOTE} down in GET /v1/nodes` },
      ).catch((e: Error) => stack.withOutput(e));
      await settled(stack, SPREAD, `${COUNT} ready instances, all on ${LOCAL}`, {
        accept: (l) => byNode(l)[LOCAL] === COUNT,
        // The heal's last retire may still run: ready is what clients see.
        duringDeployment: true,
        intervalMs: 100,
      });
      row = { downMs: down.at - killedAt, sinceMs: down.since - killedAt, readyMs: Date.now() - killedAt };
    } finally {
      traffic.stop();
    }
    rows.push(row);
    const load = await traffic.result;
    console.log(
      `loss ${k + 1}: kill → ${REMOTE} down in GET /v1/nodes ${seconds(row.downMs)} (its since: ${seconds(row.sinceMs)}), ` +
        `kill → ${COUNT} ready on ${LOCAL} ${seconds(row.readyMs)}; client errors ${load.requests - load.ok2xx} of ${load.requests}`,
    );
    console.log(`  ${formatLoad('load during the loss', load)}`);
  }
  console.log(
    `engine lost with ${COUNT / 2} of ${COUNT} instances (pingInterval ${PING}, nodeDownAfter ${DOWN_AFTER}), ${LOSSES} losses: ` +
      `kill → down median ${seconds(median(rows.map((r) => r.downMs)))} (${rows.map((r) => seconds(r.downMs)).join(', ')}); ` +
      `kill → ${COUNT} ready on ${LOCAL} median ${seconds(median(rows.map((r) => r.readyMs)))} ` +
      `(${rows.map((r) => seconds(r.readyMs)).join(', ')})`,
  );
}

async function main() {
  let remote: SecondEngine | undefined;
  let stack: DaemonStack | undefined;
  try {
    stack = await startDaemonStack(SUITE, {
      versions: VERSIONS,
      ports: 2,
      prepare: async (registryHost) => {
        remote = await startSecondEngine({
          suite: SUITE,
          name: REMOTE,
          registryPort: Number(registryHost.split(':')[1]),
        });
      },
      declaration: (ctx) => declaration(ctx, remote!),
    });
    for (const app of [PINNED, SPREAD]) await firstRelease(stack, app);
    const pinned = await settled(stack, PINNED, `${PINNED}: ${COUNT} ready instances of ${VERSIONS[0]}`);
    const spread = await settled(stack, SPREAD, `${SPREAD}: ${COUNT} ready instances of ${VERSIONS[0]}`);
    console.log(`placed: ${PINNED} on ${spreadText(pinned)}; ${SPREAD} on ${spreadText(spread)}`);
    await rollouts(stack);
    await engineLosses(stack, remote!);
  } finally {
    await stack?.close();
    await remote?.stop();
  }
}

await main();
