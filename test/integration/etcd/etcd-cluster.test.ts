import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectEtcd, type DeploymentRecord, LeaderElection } from '../../../src/etcd/index.ts';
import { type EtcdCluster, type EtcdMember, startEtcdCluster } from '../../support/etcd-cluster.ts';
import { expectEveryRequestAnswered } from '../../support/expect-every-request-answered.ts';
import { formatLoad, ROLLOUT_LOAD, type RunningLoad, startLoad } from '../../support/http-load.ts';
import { type RolloutStack, startRolloutStack } from '../../support/rollout-stack.ts';
import { waitFor } from '../../support/wait-for.ts';

const SUITE = 'etcd-cluster';
/**
 * A rollout with a member killed takes about 25 s here; this leaves room for a machine shared
 * with other suites, and outlasts `finished()`'s own 240 s, which then names what it waited for.
 */
const ROLLOUT_TEST_MS = 300_000;
let cluster: EtcdCluster;
let stack: RolloutStack;

beforeAll(async () => {
  cluster = await startEtcdCluster(SUITE);
  stack = await startRolloutStack(
    SUITE,
    (frontendPort) => ({
      image: 'unused',
      version: '1.0.0',
      instances: 3,
      port: 8080,
      health: { type: 'http', path: '/healthz', interval: '1s', timeout: '1s', healthyThreshold: 2 },
      strategy: {
        maxSurge: 1,
        maxUnavailable: 0,
        minHealthyTime: '1s',
        drainTimeout: '10s',
        stopTimeout: '5s',
      },
      routing: { frontendPort },
    }),
    'web',
    {},
    { etcdEndpoints: cluster.endpoints },
  );
  for (const version of ['1.0.0', '1.1.0', '1.2.0']) await stack.push(version);
  const first = await stack.engine.startDeployment('web', { kind: 'deploy', version: '1.0.0' });
  const done = await stack.finished('web', first.id);
  if (done.state !== 'succeeded')
    throw new Error(`the first deploy ended ${done.state}: ${done.error?.message}`);
});

afterAll(async () => {
  try {
    // The stack first: its lease is revoked through the cluster.
    await stack?.close();
  } finally {
    await cluster?.stop();
  }
});

/** The same mix as the rolling-deploy suite: keep-alive and fresh connections, GETs and POSTs. */
function loadThroughHaproxy(): RunningLoad {
  return startLoad({
    url: `http://127.0.0.1:${stack.frontendPort}/`,
    ...ROLLOUT_LOAD,
    rate: 150,
    maxDurationSec: 240,
  });
}

type Timeline = { at: number; what: string }[];

type ReadSummary = { reads: number; failures: string[]; slowestMs: number };

/**
 * What a daemon's API and reconciler do beside a rollout: read deployment records and service
 * entries through the same etcd client, four readers each reading again 50 ms after an answer.
 * A read that fails is counted, not retried, and failures also open etcd3's per-member
 * circuits, which the rollout's own writes then meet.
 */
function startReaders(): { stop(): Promise<ReadSummary> } {
  const summary: ReadSummary = { reads: 0, failures: [], slowestMs: 0 };
  let stopped = false;
  const readers = Array.from({ length: 4 }, async (_, i) => {
    while (!stopped) {
      const at = Date.now();
      try {
        if (i % 2 === 0) await stack.engine.list('web', { limit: 5 });
        else await stack.registered('web');
        summary.reads++;
      } catch (err) {
        summary.failures.push(err instanceof Error ? err.message : String(err));
      }
      summary.slowestMs = Math.max(summary.slowestMs, Date.now() - at);
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  return {
    stop: async () => {
      stopped = true;
      await Promise.all(readers);
      return summary;
    },
  };
}

function describeReads(r: ReadSummary): string {
  const failures = [...new Set(r.failures)].map((f) => `\n  ${f}`).join('');
  return `reads beside the rollout: ${r.reads} answered, ${r.failures.length} failed, slowest ${r.slowestMs} ms${failures}`;
}

/**
 * Starts a deployment of `version` and runs `act` once, when its first promote step is stored:
 * old and new instances both serve then, and the record has writes still to come. Every engine
 * event of the deployment goes on the timeline, stamped when it was heard.
 */
async function deployAndActMidway(
  version: string,
  act: () => Promise<void>,
): Promise<{ done: DeploymentRecord; timeline: Timeline; acted: number }> {
  const timeline: Timeline = [];
  let id = '';
  let acting: Promise<number> | undefined;
  const onStep = (kind: string) => (e: { deploymentId: string; kind: string; instance: string }) => {
    if (e.deploymentId !== id) return;
    timeline.push({ at: Date.now(), what: `step:${kind} ${e.kind} ${e.instance}` });
    if (kind === 'finished' && e.kind === 'promote' && !acting) acting = act().then(() => Date.now());
  };
  const onRecord = (kind: string) => (r: DeploymentRecord) => {
    if (r.id === id) timeline.push({ at: Date.now(), what: `deployment:${kind} ${r.state}` });
  };
  const events = stack.engine.events;
  const [stepStarted, stepFinished, stepFailed] = [onStep('started'), onStep('finished'), onStep('failed')];
  const [updated, finished] = [onRecord('updated'), onRecord('finished')];
  events.on('step:started', stepStarted).on('step:finished', stepFinished).on('step:failed', stepFailed);
  events.on('deployment:updated', updated).on('deployment:finished', finished);
  try {
    id = (await stack.engine.startDeployment('web', { kind: 'deploy', version })).id;
    const done = await stack.finished('web', id);
    expect(acting, 'the deployment stored a promote step').toBeDefined();
    return { done, timeline, acted: await acting! };
  } finally {
    events.off('step:started', stepStarted).off('step:finished', stepFinished).off('step:failed', stepFailed);
    events.off('deployment:updated', updated).off('deployment:finished', finished);
    // A failed expectation above must not leave the action running into the next test.
    await acting?.catch(() => undefined);
  }
}

/** Every instance the deployment made and retired has its steps stored, finished and succeeded. */
async function expectCompleteRecord(done: DeploymentRecord, from: string, to: string) {
  expect({ state: done.state, error: done.error }).toEqual({ state: 'succeeded', error: undefined });
  const stored = await stack.engine.get('web', done.id);
  expect(stored.state).toBe('succeeded');
  const leftOpen = stored.steps.filter((s) => s.state !== 'succeeded');
  expect(leftOpen, 'steps not succeeded').toEqual([]);
  const running = (await stack.nodes.list('web')).filter((c) => c.running);
  expect(running.map((c) => c.version)).toEqual([to, to, to]);
  const stepsOf = (instance: string) =>
    stored.steps
      .filter((s) => s.instance === instance)
      .map((s) => s.kind)
      .sort();
  for (const c of running)
    expect(stepsOf(c.instance), `steps of ${c.instance}`).toEqual(['promote', 'start']);
  const retired = stored.steps.filter((s) => s.kind === 'retire');
  expect(retired).toHaveLength(3);
  expect(stored.steps).toHaveLength(9);
  expect(stored.from?.version).toBe(from);
  await waitFor(
    async () => {
      const entries = await stack.registered('web');
      return entries.length === 3 && entries.every((e) => e.version === to) ? entries : undefined;
    },
    { what: `three ${to} entries in the service registry`, timeoutMs: 30_000 },
  );
  const entries = await stack.registered('web');
  expect(entries.map((e) => e.instance).sort()).toEqual(running.map((c) => c.instance).sort());
}

function describeTimeline(timeline: Timeline, from: number): string {
  return timeline.map((t) => `  ${((t.at - from) / 1000).toFixed(2)}s ${t.what}`).join('\n');
}

describe('the rollout engine against a 3-member etcd cluster', () => {
  it(
    'rolls 1.0.0 → 1.1.0 under load while a follower member is killed midway, and records every step',
    async () => {
      const leader = await cluster.leader();
      const follower = cluster.members.find((m) => m !== leader)!;
      const load = loadThroughHaproxy();
      const readers = startReaders();
      let run: Awaited<ReturnType<typeof deployAndActMidway>>;
      let reads: ReadSummary;
      try {
        run = await deployAndActMidway('1.1.0', () => cluster.kill(follower));
      } finally {
        load.stop();
        reads = await readers.stop();
        // Back to three members, so the next test can lose its leader and keep a quorum.
        await cluster.restart(follower);
      }
      const summary = await load.result;
      console.log(describeReads(reads));
      console.log(formatLoad(`1.0.0 → 1.1.0, ${follower.name} killed`, summary));
      console.log(
        `timeline from the kill of ${follower.name}:\n${describeTimeline(run.timeline, run.acted)}`,
      );
      expectEveryRequestAnswered(summary, { atLeast: 301 });
      await expectCompleteRecord(run.done, '1.0.0', '1.1.0');
      expect(reads.failures).toEqual([]);
    },
    ROLLOUT_TEST_MS,
  );

  it(
    'rolls 1.1.0 → 1.2.0 while the etcd leader member is killed midway; glint stays (or is again) leader',
    async () => {
      const election = new LeaderElection(stack.etcd, {
        id: 'glint-under-test',
        address: 'http://127.0.0.1:0',
        ttlSeconds: 10,
      });
      const electionLog: Timeline = [];
      let beforeStop: Timeline = [];
      election.on('elected', () => electionLog.push({ at: Date.now(), what: 'elected' }));
      election.on('deposed', (reason) => electionLog.push({ at: Date.now(), what: `deposed: ${reason}` }));
      election.start();
      const load = loadThroughHaproxy();
      const readers = startReaders();
      let killed: EtcdMember | undefined;
      let run: Awaited<ReturnType<typeof deployAndActMidway>>;
      let reads: ReadSummary;
      try {
        await waitFor(() => (election.isLeader() ? true : undefined), {
          what: 'glint to lead',
          timeoutMs: 30_000,
        });
        run = await deployAndActMidway('1.2.0', async () => {
          killed = await cluster.leader();
          await cluster.kill(killed);
        });
        expect(await cluster.leader()).not.toBe(killed);
        await waitFor(() => (election.isLeader() ? true : undefined), {
          what: 'glint to lead after the etcd leader died',
          timeoutMs: 30_000,
        });
      } finally {
        load.stop();
        reads = await readers.stop();
        // Stopping resigns (a `deposed` of its own), which is not what the cluster did.
        beforeStop = [...electionLog];
        await election.stop();
        if (killed) await cluster.restart(killed);
      }
      const summary = await load.result;
      const after = run.timeline.find((t) => t.at > run.acted);
      console.log(formatLoad(`1.1.0 → 1.2.0, etcd leader ${killed?.name} killed`, summary));
      console.log(
        `timeline from the kill of the leader ${killed?.name}:\n${describeTimeline(run.timeline, run.acted)}`,
      );
      console.log(describeReads(reads));
      console.log(`leader election:\n${describeTimeline(beforeStop, run.acted)}`);
      console.log(
        `glint's first stored write after the kill: ${after ? `${after.at - run.acted} ms (${after.what})` : 'none'}`,
      );
      expectEveryRequestAnswered(summary, { atLeast: 301 });
      await expectCompleteRecord(run.done, '1.1.0', '1.2.0');
      // Reads wait out the election rather than fail: an API answer is late, never an error.
      expect(reads.failures).toEqual([]);
      expect(after, 'a record write after the kill').toBeDefined();
      // Leadership is kept, or lost and taken back: never left vacant.
      expect(beforeStop.at(-1)?.what).toBe('elected');
    },
    ROLLOUT_TEST_MS,
  );

  it("concurrent writes through glint's etcd client wait out the loss of the etcd leader: none fails", async () => {
    // The daemon's own call deadline (src/daemon.ts), not the stack's default.
    const etcd = await connectEtcd({
      endpoints: cluster.endpoints,
      prefix: '/glint-writers',
      callTimeoutMs: 2_000,
    });
    const writers = Array.from({ length: 16 }, (_, i) => ({
      key: `/glint-writers/${i}`,
      done: [] as { begun: number; stored: number }[],
    }));
    const failures: string[] = [];
    let conflicts = 0;
    let stopped = false;
    let killed: EtcdMember | undefined;
    const running = writers.map(async (w) => {
      let revision = 0;
      for (let n = 0; !stopped; n++) {
        const startedAt = Date.now();
        try {
          const res = await etcd.txn({
            compare: [{ key: w.key, target: 'mod', op: '==', value: revision }],
            success: [{ type: 'put', key: w.key, value: String(n) }],
          });
          if (res.succeeded) {
            revision = res.revision;
            w.done.push({ begun: startedAt, stored: Date.now() });
          } else {
            conflicts++;
            revision = (await etcd.get(w.key))?.modRevision ?? 0;
          }
        } catch (err) {
          failures.push(err instanceof Error ? err.message : String(err));
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    });
    let killedAt = 0;
    try {
      await waitFor(() => (writers.every((w) => w.done.length >= 5) ? true : undefined), {
        what: 'every writer to write',
        timeoutMs: 30_000,
      });
      killed = await cluster.leader();
      await cluster.kill(killed);
      // Once Docker says it is dead: the kill itself can take half a second on a busy machine.
      killedAt = Date.now();
      // Each writer has stored a write it began after the kill.
      await waitFor(() => (writers.every((w) => w.done.some((d) => d.begun > killedAt)) ? true : undefined), {
        what: 'every writer to write again after the kill',
        timeoutMs: 60_000,
      });
    } finally {
      stopped = true;
      await Promise.all(running);
      etcd.close();
      if (killed) await cluster.restart(killed);
    }
    const stored = writers.flatMap((w) => w.done.map((d) => d.stored)).sort((a, b) => a - b);
    const lastBefore = Math.max(...stored.filter((t) => t <= killedAt));
    const firstAfter = Math.min(...stored.filter((t) => t > killedAt));
    const resumed = writers.map((w) => w.done.find((d) => d.begun > killedAt)!.stored - killedAt);
    const unique = [...new Set(failures)].map((f) => `\n  ${f}`).join('');
    console.log(
      `16 writers, etcd leader ${killed?.name} killed: last write stored ${killedAt - lastBefore} ms before the kill, ` +
        `first after it ${firstAfter - killedAt} ms after; every writer stored a write begun after the kill within ` +
        `${Math.max(...resumed)} ms (fastest ${Math.min(...resumed)} ms); ${failures.length} failed, ${conflicts} conflicts${unique}`,
    );
    expect(failures).toEqual([]);
  });
});
