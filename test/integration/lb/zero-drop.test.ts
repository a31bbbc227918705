import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TIMEOUTS, type LbStructure } from '../../../src/lb/index.ts';
import { removeTestContainers } from '../../support/cleanup.ts';
import { buildDemoApp } from '../../support/demo-app-image.ts';
import {
  type DemoInstance,
  killDemoInstance,
  startDemoInstance,
  stopDemoInstance,
} from '../../support/demo-instances.ts';
import { formatLoad, type LoadSummary, startLoad } from '../../support/http-load.ts';
import { testRunId } from '../../support/labels.ts';
import { waitFor } from '../../support/wait-for.ts';
import { appModel, freePort, type LbFixture, startLbFixture } from './lb-fixture.ts';

const SUITE = 'lb-zero-drop';
// 300 requests started per second, bounded: at most 24 sockets, and a hard duration cap far
// above what the work needs (the load is stopped when the work is done).
// timeoutSec: an open-loop generator queues requests behind its keep-alive sockets when the
// machine is overloaded; a queued request is slow, not dropped, so it gets the generator's
// longest wait before it counts as unanswered.
const LOAD = { connections: 24, rate: 300, timeoutSec: 120 };
const LOAD_CAP_SEC = 600;
// Generous per-phase deadlines instead of one budget for everything: a loaded machine slows
// every phase, and a slow phase should fail naming itself.
const PHASE_MS = 90_000;
const TEST_MS = 900_000;

/** Runs `work`, failing with its name when it takes longer than `ms`. */
async function phase<T>(what: string, ms: number, work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms}ms`)), ms);
  });
  try {
    return await Promise.race([work(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
let fx: LbFixture;
let port: number;
let image: string;
let instances: DemoInstance[] = [];
let serial = 0;

beforeAll(async () => {
  image = (await buildDemoApp('1.0.0')).ref;
  port = await freePort();
  fx = await startLbFixture(SUITE, [appModel('demo', port, { drainTimeoutMs: 10_000 })]);
  instances = await Promise.all([0, 1, 2].map(() => startInstance()));
  for (const instance of instances) await fx.lb.addInstance('demo', instance);
});

afterAll(async () => {
  await removeTestContainers({ runId: testRunId(), suite: SUITE });
});

function startInstance(): Promise<DemoInstance> {
  serial += 1;
  return startDemoInstance(SUITE, image, `demo-${serial}`);
}

/** start new → add (checked, ready) → retire old (drained, no old worker) → stop → remove. */
async function replace(old: DemoInstance): Promise<DemoInstance> {
  const fresh = await startInstance();
  await phase(`adding ${fresh.name}`, PHASE_MS, () => fx.lb.addInstance('demo', fresh));
  await phase(`retiring ${old.name}`, PHASE_MS, () => fx.lb.retireServer('demo', old.name));
  await stopDemoInstance(old.id);
  return fresh;
}

/** Real structural changes: a timeout, and an extra app coming and going. */
async function reloads(count: number, extraPort: number, until: () => boolean): Promise<number> {
  let done = 0;
  while (done < count) {
    const base = fx.lb.model;
    const apps = base.apps.filter((a) => a.name !== 'extra');
    if (done % 4 === 1) apps.push(appModel('extra', extraPort));
    const next: LbStructure = {
      ...base,
      apps,
      timeouts: { ...DEFAULT_TIMEOUTS, serverMs: 31_000 + done * 100 },
    };
    const outcome = await phase(`reload ${done}`, PHASE_MS, () => fx.lb.applyStructure(next));
    if (!outcome.reloaded) throw new Error(`structural change ${done} did not reload`);
    done += 1;
    // Spread the reloads over the replacements rather than bunching them at the start.
    if (!until()) await new Promise((r) => setTimeout(r, 400));
  }
  return done;
}

/** Traffic flows, one instance dies abruptly, HAProxy notices, traffic keeps flowing. */
async function killUnderLoad(victim: DemoInstance, stot: () => Promise<number>) {
  const start = await stot();
  await waitFor(async () => ((await stot()) > start + 600 ? true : undefined), {
    timeoutMs: PHASE_MS,
    what: 'traffic before the kill',
  });
  await killDemoInstance(victim.id);
  await waitFor(
    async () =>
      (await fx.lb.runtime.serverStat('be_demo', victim.name))?.status.startsWith('DOWN') ? true : undefined,
    { timeoutMs: PHASE_MS, what: "HAProxy's check to mark the killed instance down" },
  );
  const afterDown = await stot();
  await waitFor(async () => ((await stot()) > afterDown + 600 ? true : undefined), {
    timeoutMs: PHASE_MS,
    what: 'traffic after the kill',
  });
}

/** Every request answered 2xx, and there were enough of them to mean something. */
function assertNoDrop(summary: LoadSummary, minRequests: number) {
  expect(summary.requests).toBeGreaterThanOrEqual(minRequests);
  expect(summary.errorCodes).toEqual({});
  expect(summary.errors).toBe(0);
  expect(summary.unanswered).toBe(0);
  expect(summary.timeouts).toBe(0);
  expect(summary.non2xx).toBe(0);
  expect(summary.ok2xx).toBe(summary.requests);
}

describe('zero dropped requests through HAProxy', () => {
  it(
    'replaces every instance twice, one at a time, during 20 reloads, without a failed request',
    async () => {
      const quiet = await startLoad({ url: `http://127.0.0.1:${port}/`, ...LOAD, maxDurationSec: 6 }).result;
      console.log(formatLoad('baseline (no changes)', quiet));
      // 6 s at 300 started per second: well over 500 unless the generator never ran.
      assertNoDrop(quiet, 500);

      const load = startLoad({ url: `http://127.0.0.1:${port}/`, ...LOAD, maxDurationSec: LOAD_CAP_SEC });
      let replacing = true;
      const reloading = reloads(20, await freePort(), () => !replacing);
      let reloadCount: number;
      try {
        for (let round = 0; round < 2; round++) {
          for (let i = 0; i < instances.length; i++) instances[i] = await replace(instances[i]!);
        }
      } finally {
        replacing = false;
        reloadCount = await reloading.finally(() => load.stop());
      }
      const during = await load.result;
      console.log(formatLoad('during 6 replacements and 20 reloads', during));
      console.log(
        `latency change: p50 ${quiet.p50Ms}ms -> ${during.p50Ms}ms, p99 ${quiet.p99Ms}ms -> ${during.p99Ms}ms`,
      );

      expect(reloadCount).toBe(20);
      assertNoDrop(during, 1_000);
      const servers = fx.lb.model.apps.find((a) => a.name === 'demo')!.servers;
      expect(servers.map((s) => s.name).sort()).toEqual(instances.map((i) => i.name).sort());
      expect(servers.every((s) => s.state === 'ready')).toBe(true);
      expect(serial).toBe(9);
    },
    TEST_MS,
  );

  it(
    'survives an instance killed with SIGKILL under load: retries and redispatch hide it',
    async () => {
      const stot = async () =>
        (await fx.lb.runtime.showStat()).find((r) => r.proxy === 'be_demo' && r.server === 'BACKEND')!.stot;
      const victim = instances[0]!;
      const load = startLoad({ url: `http://127.0.0.1:${port}/`, ...LOAD, maxDurationSec: LOAD_CAP_SEC });
      try {
        await killUnderLoad(victim, stot);
      } finally {
        load.stop();
      }
      const summary = await load.result;
      console.log(formatLoad('with one instance killed (SIGKILL)', summary));

      // HAProxy counted 1,200 sessions in the two traffic waits, some of them retries; the load
      // itself must at least have run for real.
      assertNoDrop(summary, 500);
      // The kill really hit traffic: HAProxy retried requests that the dead instance failed.
      const victimStat = await fx.lb.runtime.serverStat('be_demo', victim.name);
      console.log(
        `HAProxy retries on the killed instance: ${victimStat?.retries}, redispatches: ${victimStat?.redispatches}`,
      );
      expect(victimStat!.retries + victimStat!.redispatches).toBeGreaterThan(0);
      await fx.lb.retireServer('demo', victim.name, { drainTimeoutMs: 1_000 });
      expect(fx.lb.model.apps[0]!.servers.map((s) => s.name)).not.toContain(victim.name);
    },
    TEST_MS,
  );
});
