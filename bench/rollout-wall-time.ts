/**
 * Wall time of a glint rollout (1.0.0 → 1.1.0, maxSurge 1, maxUnavailable 0) for 1, 4 and 10
 * instances against its floor, and glint's own overhead per step, under wrk load through HAProxy.
 *
 * With maxSurge 1 and maxUnavailable 0 a rollout is a chain of cycles, one per instance: launch
 * a new container, wait until glint's probe and HAProxy's check both pass, wait minHealthyTime,
 * promote, retire one old instance (drain, deregister, out of HAProxy, stop), and only then
 * launch the next (the retiring container still counts against the surge). The bench wraps the
 * engine's ports (Docker launch/probe/stop, HAProxy stage/servers/promote/drain) with timers and
 * polls each new container's /healthz itself every 20 ms to see when the app first answers.
 *
 *   floor per cycle = launch (Docker create + start) + boot (launch end → first 200, 20 ms poll)
 *                     + (healthyThreshold − 1) × interval + minHealthyTime + drain + stop
 *   health cadence  = (ready seen − launch end) − boot − (healthyThreshold − 1) × interval
 *                     − the part of staging that outlasted the boot:
 *                     the probe (25 ms until it first passes) and HAProxy's check (25 ms while
 *                     down, then its 1 s inter) landing after the moment the app answers, plus
 *                     ≤ 25 ms until glint reads HAProxy's verdict
 *   glint's own     = wall − Σ(floor + health cadence): recording steps in etcd, planning, ticks,
 *                     HAProxy runtime commands, registry writes, resolving the release
 *
 * One unmeasured rollout of one instance runs first, so each step's code has run once, as in a
 * daemon that has been up for a while.
 *
 * Approximate by up to a few ms per cycle: the timers wrap the ports from outside, so a port's
 * own bookkeeping counts as waiting.
 *
 * With `--repeats N` each size is measured N times (sizes taken in turn, so a busy spell of
 * the machine spreads over all of them) and judged by its median: one run of a 4 s rollout
 * moves by a few percent with whatever else the machine does.
 *
 *   npx tsx bench/rollout-wall-time.ts [--sizes 1,4,10] [--connections 16] [--min-healthy 1s] [--repeats 1]
 */
import { randomUUID } from 'node:crypto';
import { parseDuration } from '../src/config/duration.ts';
import type { DeploymentRecord } from '../src/etcd/index.ts';
import { removeTestContainers } from '../test/support/cleanup.ts';
import { forgetRegistryImages } from '../test/support/demo-registry.ts';
import { type RolloutStack, startRolloutStack } from '../test/support/rollout-stack.ts';
import { addressModeArg, networkArg } from './support/bench-run.ts';
import { killWrks, startWrk, type WrkSummary } from './support/wrk-load.ts';

const SUITE = 'bench-rollout-wall-time';
process.env.GLINT_TEST_RUN ??= `bench-${randomUUID().slice(0, 8)}`;
process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
process.env.TESTCONTAINERS_HOST_OVERRIDE = '127.0.0.1';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const SIZES = arg('sizes', '1,4,10').split(',').map(Number);
const CONNECTIONS = Number(arg('connections', '16'));
const MIN_HEALTHY = arg('min-healthy', '1s');
const REPEATS = Number(arg('repeats', '1'));
if (!Number.isInteger(REPEATS) || REPEATS < 1)
  throw new Error(`--repeats ${REPEATS}: give a whole number of at least 1`);
const ADDRESS_MODE = addressModeArg();
const NETWORK = networkArg();
const MIN_HEALTHY_MS = parseDuration(MIN_HEALTHY);
if (MIN_HEALTHY_MS === undefined) throw new Error(`--min-healthy ${MIN_HEALTHY} is not a duration`);
const INTERVAL_MS = 1_000;
const HEALTHY_THRESHOLD = 2;
const LOAD_CAP_SECONDS = 300;

const now = () => performance.timeOrigin + performance.now();
type Span = [number, number];
const len = (s: Span | undefined) => (s ? s[1] - s[0] : 0);

/** What the wrapped ports saw of one instance during the timed rollout. */
type Timeline = {
  instance: string;
  containerId?: string;
  launch?: Span;
  stageEnd?: number;
  /** The app's first 200 on /healthz, from the bench's own 20 ms poll. */
  firstAnswer?: number;
  probes: { at: number; ok: boolean }[];
  /** First time glint read HAProxy's check as passed. */
  checkPassedSeen?: number;
  promote?: Span;
  drain?: Span;
  stop?: Span;
};

class Recorder {
  timelines = new Map<string, Timeline>();
  byContainer = new Map<string, string>();
  on = false;

  of(instance: string): Timeline {
    let t = this.timelines.get(instance);
    if (!t) {
      t = { instance, probes: [] };
      this.timelines.set(instance, t);
    }
    return t;
  }

  reset() {
    this.timelines.clear();
  }
}

/** Wraps the stack's ports, which the engine holds by reference, with timers. */
function instrument(stack: RolloutStack, rec: Recorder) {
  const nodes = stack.nodes;
  const lb = stack.lb;
  const launch = nodes.launch.bind(nodes);
  nodes.launch = async (node, spec, call) => {
    const a = now();
    const out = await launch(node, spec, call);
    rec.byContainer.set(out.containerId, spec.instance);
    if (rec.on) {
      const t = rec.of(spec.instance);
      t.launch = [a, now()];
      t.containerId = out.containerId;
      void pollFirstAnswer(out.host, out.port).then((at) => {
        t.firstAnswer = at;
      });
    }
    return out;
  };
  const probe = nodes.probe.bind(nodes);
  nodes.probe = async (node, check, target, call) => {
    const out = await probe(node, check, target, call);
    const instance = rec.byContainer.get(target.containerId);
    if (rec.on && instance) rec.of(instance).probes.push({ at: now(), ok: out.ok });
    return out;
  };
  const stopAndRemove = nodes.stopAndRemove.bind(nodes);
  nodes.stopAndRemove = async (node, containerId, timeoutMs, call) => {
    const a = now();
    await stopAndRemove(node, containerId, timeoutMs, call);
    const instance = rec.byContainer.get(containerId);
    if (rec.on && instance) rec.of(instance).stop = [a, now()];
  };
  const list = nodes.list.bind(nodes);
  nodes.list = async (app, call) => {
    const out = await list(app, call);
    for (const c of out) rec.byContainer.set(c.containerId, c.instance);
    return out;
  };
  const stage = lb.stage.bind(lb);
  lb.stage = async (app, server) => {
    await stage(app, server);
    if (rec.on) rec.of(server.name).stageEnd = now();
  };
  const servers = lb.servers.bind(lb);
  lb.servers = async (app, call) => {
    const out = await servers(app, call);
    const at = now();
    if (rec.on)
      for (const s of out) {
        const t = rec.timelines.get(s.name);
        if (s.checkPassed && t && t.checkPassedSeen === undefined) t.checkPassedSeen = at;
      }
    return out;
  };
  const promote = lb.promote.bind(lb);
  lb.promote = async (app, name) => {
    const a = now();
    await promote(app, name);
    if (rec.on) rec.of(name).promote = [a, now()];
  };
  const drain = lb.drain.bind(lb);
  lb.drain = async (app, name, timeoutMs, call) => {
    const a = now();
    const out = await drain(app, name, timeoutMs, call);
    if (rec.on) rec.of(name).drain = [a, now()];
    return out;
  };
}

/** When the app first answers 200 on /healthz (a published port accepts TCP before that). */
async function pollFirstAnswer(host: string, port: number): Promise<number | undefined> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    // The instance's own address: a loopback port, or the IP of a container this bench started.
    const ok = await fetch(`http://${host}:${port}/healthz`, {
      headers: { connection: 'close' },
      signal: AbortSignal.timeout(500),
    }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return now();
    await new Promise((r) => setTimeout(r, 20));
  }
  return undefined;
}

/** When glint's probe reached `healthyThreshold` successes in a row. */
function probeHealthyAt(t: Timeline): number | undefined {
  let run = 0;
  for (const p of t.probes) {
    run = p.ok ? run + 1 : 0;
    if (run >= HEALTHY_THRESHOLD) return p.at;
  }
  return undefined;
}

/** Where one cycle's time went, ms: the floor's parts, then glint's own gaps between them. */
type Parts = {
  launch: number;
  boot: number;
  drain: number;
  stop: number;
  /** Previous cycle's stop (or the deploy call) → this launch: a tick, planning, the start step's record. */
  toLaunch: number;
  /** Launch → staged in HAProxy (glint's probe runs meanwhile, so only what outlasts the boot waits). */
  stage: number;
  /** Ready + minHealthyTime → promote called: a tick and the promote step's record. */
  toPromote: number;
  promote: number;
  /** Promoted → drain called: the step's record, a tick, the retire step's record. */
  toDrain: number;
  /** Drained → stop called: deregister in etcd, out of HAProxy, wait for old workers. */
  toStop: number;
};
type Cycle = {
  floor: number;
  cadence: number;
  waited: number;
  sequential: boolean;
  parts: Parts;
  stopEnd: number;
};

/** Pairs the k-th new instance with the k-th retired one and splits each cycle's time. */
function cycles(rec: Recorder, start: number): { list: Cycle[]; problems: string[] } {
  const all = [...rec.timelines.values()];
  const fresh = all.filter((t) => t.launch).sort((a, b) => a.launch![0] - b.launch![0]);
  const retired = all.filter((t) => t.drain && !t.launch).sort((a, b) => a.drain![0] - b.drain![0]);
  const problems: string[] = [];
  if (fresh.length !== retired.length)
    problems.push(`${fresh.length} launched but ${retired.length} retired: cycles not paired`);
  const list = fresh.map((n, k): Cycle => {
    const o = retired[k];
    const healthy = probeHealthyAt(n);
    const ready =
      healthy !== undefined && n.checkPassedSeen !== undefined
        ? Math.max(healthy, n.checkPassedSeen)
        : undefined;
    if (ready === undefined || n.firstAnswer === undefined)
      problems.push(`instance ${n.instance}: no ready time`);
    const launchEnd = n.launch![1];
    const boot = (n.firstAnswer ?? launchEnd) - launchEnd;
    const stage = (n.stageEnd ?? launchEnd) - launchEnd;
    const thresholds = (HEALTHY_THRESHOLD - 1) * INTERVAL_MS;
    const floor = len(n.launch) + boot + thresholds + MIN_HEALTHY_MS! + len(o?.drain) + len(o?.stop);
    // glint's probe runs while the server is staged; only a stage that outlasts the boot holds
    // up HAProxy's check, and that excess is glint's own.
    const cadence = (ready ?? launchEnd) - launchEnd - boot - thresholds - Math.max(0, stage - boot);
    const next = fresh[k + 1];
    const sequential = !next || !o?.stop || next.launch![0] >= o.stop[1] - 1;
    const parts: Parts = {
      launch: len(n.launch),
      boot,
      drain: len(o?.drain),
      stop: len(o?.stop),
      toLaunch: n.launch![0] - (k === 0 ? start : (retired[k - 1]?.stop?.[1] ?? n.launch![0])),
      stage,
      toPromote: (n.promote?.[0] ?? 0) - ((ready ?? 0) + MIN_HEALTHY_MS!),
      promote: len(n.promote),
      toDrain: (o?.drain?.[0] ?? 0) - (n.promote?.[1] ?? 0),
      toStop: (o?.stop?.[0] ?? 0) - (o?.drain?.[1] ?? 0),
    };
    return { floor, cadence, waited: floor + cadence, sequential, parts, stopEnd: o?.stop?.[1] ?? 0 };
  });
  if (list.some((c) => !c.sequential)) problems.push('cycles overlapped: own overhead is approximate');
  return { list, problems };
}

function finishedEvent(stack: RolloutStack) {
  const seen = new Map<string, DeploymentRecord>();
  const waiters = new Map<string, (r: DeploymentRecord) => void>();
  stack.engine.events.on('deployment:finished', (r) => {
    seen.set(r.id, r);
    waiters.get(r.id)?.(r);
  });
  return (id: string) =>
    new Promise<DeploymentRecord>((resolve, reject) => {
      const done = seen.get(id);
      if (done) return resolve(done);
      const timer = setTimeout(() => reject(new Error(`deployment ${id} did not finish in 600 s`)), 600_000);
      waiters.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
}

type Row = {
  size: number;
  wall: number;
  floor: number;
  cadence: number;
  own: number;
  steps: number;
  stepKinds: string;
  /** Mean per cycle, ms. */
  parts: Parts;
  /** Last stop → the record is succeeded, ms. */
  toFinish: number;
  load?: WrkSummary;
  problems: string[];
};

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * One rollout of one instance, not measured, before any that is: the daemon is long-lived, so
 * the code of every step kind (start, promote, retire) has run before and is compiled; without
 * it the first measured rollout pays for compiling the retire path.
 */
async function warmUp(stack: RolloutStack): Promise<void> {
  const finished = finishedEvent(stack);
  for (const version of ['1.0.0', '1.1.0']) {
    const started = await stack.engine.startDeployment('web', { kind: 'deploy', version, instances: 1 });
    const done = await finished(started.id);
    if (done.state !== 'succeeded') throw new Error(`warm-up deploy of ${version} ended ${done.state}`);
  }
}

async function measure(stack: RolloutStack, rec: Recorder, size: number): Promise<Row> {
  const finished = finishedEvent(stack);
  const before = await stack.engine.startDeployment('web', {
    kind: 'deploy',
    version: '1.0.0',
    instances: size,
  });
  const settled = await finished(before.id);
  if (settled.state !== 'succeeded') throw new Error(`deploy of 1.0.0 × ${size} ended ${settled.state}`);

  const load =
    CONNECTIONS > 0
      ? startWrk(`http://127.0.0.1:${stack.frontendPort}/`, {
          connections: CONNECTIONS,
          maxSeconds: LOAD_CAP_SECONDS,
        })
      : undefined;
  await new Promise((r) => setTimeout(r, 500));
  rec.reset();
  rec.on = true;
  const t0 = now();
  const started = await stack.engine.startDeployment('web', {
    kind: 'deploy',
    version: '1.1.0',
    instances: size,
  });
  const done = await finished(started.id);
  const wall = now() - t0;
  rec.on = false;
  const summary = await load?.stop();
  if (done.state !== 'succeeded')
    throw new Error(`deploy of 1.1.0 × ${size} ended ${done.state}: ${done.error?.message}`);
  const { list, problems } = cycles(rec, t0);
  const mean = Object.fromEntries(
    Object.keys(list[0]?.parts ?? {}).map((k) => [
      k,
      list.reduce((sum, c) => sum + c.parts[k as keyof Parts], 0) / Math.max(1, list.length),
    ]),
  ) as Parts;
  const kinds = new Map<string, number>();
  for (const step of done.steps) kinds.set(step.kind, (kinds.get(step.kind) ?? 0) + 1);
  const floor = list.reduce((s, c) => s + c.floor, 0);
  const cadence = list.reduce((s, c) => s + c.cadence, 0);
  return {
    size,
    wall,
    floor,
    cadence,
    own: wall - floor - cadence,
    steps: done.steps.length,
    stepKinds: [...kinds].map(([k, n]) => `${n} ${k}`).join(', '),
    parts: mean,
    toFinish: t0 + wall - (list.at(-1)?.stopEnd ?? t0 + wall),
    ...(summary ? { load: summary } : {}),
    problems,
  };
}

async function main(): Promise<void> {
  const stack = await startRolloutStack(
    SUITE,
    (frontendPort) => ({
      image: 'unused',
      version: '1.0.0',
      instances: 1,
      port: 8080,
      network: NETWORK,
      health: {
        type: 'http',
        path: '/healthz',
        interval: `${INTERVAL_MS}ms`,
        timeout: '1s',
        healthyThreshold: HEALTHY_THRESHOLD,
        unhealthyThreshold: 3,
      },
      strategy: { maxSurge: 1, maxUnavailable: 0, minHealthyTime: MIN_HEALTHY },
      routing: { frontendPort },
    }),
    'web',
    {},
    { addressMode: ADDRESS_MODE },
  );
  try {
    await stack.push('1.0.0');
    await stack.push('1.1.0');
    const rec = new Recorder();
    instrument(stack, rec);
    await warmUp(stack);
    const rows: Row[] = [];
    for (let run = 0; run < REPEATS; run++)
      for (const size of SIZES) rows.push(await measure(stack, rec, size));

    const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`.padStart(8);
    const pct = (part: number, whole: number) => `${((100 * part) / whole).toFixed(1)}%`.padStart(6);
    console.log(
      `glint rollout 1.0.0 → 1.1.0, maxSurge 1, maxUnavailable 0; health /healthz every ${INTERVAL_MS} ms, ` +
        `${HEALTHY_THRESHOLD} successes; minHealthyTime ${MIN_HEALTHY}; ` +
        `${CONNECTIONS > 0 ? `wrk ${CONNECTIONS} connections through HAProxy` : 'no load'}:`,
    );
    console.log(
      '  instances      wall     floor   overhead (% wall)   of which: health cadence   glint own   own/step  steps',
    );
    for (const r of rows) {
      const overhead = r.wall - r.floor;
      console.log(
        `  ${String(r.size).padStart(9)} ${s(r.wall)} ${s(r.floor)} ${s(overhead)} ${pct(overhead, r.wall)}` +
          `            ${s(r.cadence)}   ${s(r.own)} ${`${(r.own / r.steps).toFixed(0)} ms`.padStart(10)}  ${String(r.steps).padStart(5)}`,
      );
      const p = r.parts;
      const ms = (x: number) => `${x.toFixed(0)}`;
      console.log(
        `            floor per instance (mean ms): launch ${ms(p.launch)}, boot ${ms(p.boot)}, thresholds ${(HEALTHY_THRESHOLD - 1) * INTERVAL_MS}, ` +
          `minHealthyTime ${MIN_HEALTHY_MS}, drain ${ms(p.drain)}, stop ${ms(p.stop)}`,
      );
      console.log(
        `            glint's own per instance (mean ms): →launch ${ms(p.toLaunch)}, stage ${ms(p.stage)}, →promote ${ms(p.toPromote)}, ` +
          `promote ${ms(p.promote)}, →drain ${ms(p.toDrain)}, drained→stop ${ms(p.toStop)}; last stop→succeeded ${ms(r.toFinish)}`,
      );
      console.log(`            steps: ${r.stepKinds}`);
      if (r.load) console.log(`            load: ${r.load.requests} requests, ${r.load.errors} errors`);
      for (const p of r.problems) console.log(`            note: ${p}`);
    }
    for (const size of SIZES) {
      const runs = rows.filter((r) => r.size === size);
      const overheads = runs.map((r) => (100 * (r.wall - r.floor)) / r.wall);
      const perSteps = runs.map((r) => r.own / r.steps);
      const overheadPct = median(overheads);
      const perStep = median(perSteps);
      const spread = (xs: number[], digits: number) =>
        runs.length > 1 ? ` (median of ${runs.length}: ${xs.map((x) => x.toFixed(digits)).join(', ')})` : '';
      console.log(
        `  ${size} instances: overhead ${overheadPct.toFixed(1)}% of wall${spread(overheads, 1)} (target < 5%: ${overheadPct < 5 ? 'met' : 'NOT met'}); ` +
          `glint's own ${perStep.toFixed(0)} ms per step${spread(perSteps, 0)} (target < 100 ms: ${perStep < 100 ? 'met' : 'NOT met'})`,
      );
    }
    console.log(
      '  floor = Σ per instance: Docker create+start + app boot (first 200, 20 ms poll) + (healthyThreshold − 1) × interval' +
        ' + minHealthyTime + drain + stop; health cadence = waiting for the probe and check to land beyond the floor;' +
        " glint own = wall − floor − health cadence (timers around the engine's ports; a few ms per cycle approximate)",
    );
    console.log(
      `command: npx tsx bench/rollout-wall-time.ts --sizes ${SIZES.join(',')} --connections ${CONNECTIONS} --min-healthy ${MIN_HEALTHY} --address-mode ${ADDRESS_MODE} --network ${NETWORK} --repeats ${REPEATS}`,
    );
  } finally {
    killWrks();
    await stack.close();
    await forgetRegistryImages(stack.registry.host);
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    killWrks();
    void removeTestContainers({ runId: process.env.GLINT_TEST_RUN, suite: SUITE }).finally(() =>
      process.exit(130),
    );
  });

try {
  await main();
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  await removeTestContainers({ runId: process.env.GLINT_TEST_RUN, suite: SUITE });
}
