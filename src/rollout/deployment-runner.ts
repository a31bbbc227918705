import { randomBytes } from 'node:crypto';
import { type DeploymentError, type DeploymentRecord, isTerminal, type Release } from '../etcd/index.ts';
import type { Placement } from '../placement/index.ts';
import { DeploymentEvent, nextDeploymentState } from './deployment-state.ts';
import {
  discardInstance,
  promoteInstance,
  retireInstance,
  type StepContext,
  startInstance,
  watchInstance,
} from './execute-step.ts';
import { failureCause } from './failure-cause.ts';
import { observeInstances } from './observe-instances.ts';
import { placeStarts } from './place-starts.ts';
import { planRollout } from './plan-rollout.ts';
import { type Budget, type Plan, PlanPhase, type Step } from './plan-types.ts';
import type { BackendServer, RuntimeInstance } from './ports.ts';
import { registryEntry } from './registry-entry.ts';

type PendingStart = { instance: string; node: string; specHash: string; at: number; doneAt?: number };

/** The desired state of one tick: the release rolled towards, and how many of it. */
type Target = { release: Release | undefined; instances: number };

/** How often the loop looks again while nothing wakes it; the health probes set the real pace. */
const TICK_MS = 250;
/** How often HAProxy's checks are read while only they hold up an instance that is healthy. */
const LB_CHECK_POLL_MS = 25;
/** A step that failed this many times on one instance fails the deployment. */
const MAX_STEP_FAILURES = 3;
/** Backoff after a failed step: 1 s, 2 s, 4 s (capped by MAX_STEP_FAILURES). */
const stepBackoffMs = (failures: number) => 1_000 * 2 ** (failures - 1);

export const newInstanceId = () => randomBytes(3).toString('hex');

/**
 * Runs one deployment to its end: observe, plan, execute, record, look again. Level-triggered:
 * every tick re-observes Docker, HAProxy and the probes, so a restarted daemon picks up where
 * the record says it was. Steps run concurrently; the loop never waits for a drain.
 */
export class DeploymentRunner {
  readonly #inFlight = new Map<string, Promise<void>>();
  /** The loop waits for every step in flight to end (the deployment is complete). */
  #settling = false;
  /**
   * Starts in flight, and starts finished since the last list Docker was asked for: a list
   * taken before a start finished may show its container not yet running, or not at all, and
   * must not read as a dead instance. A finished start leaves once a list asked after it.
   */
  /** Instances this runner started: its own even before the record's write of the step lands. */
  readonly #launched = new Set<string>();
  readonly #pendingStarts: {
    instance: string;
    node: string;
    specHash: string;
    at: number;
    doneAt?: number;
  }[] = [];
  readonly #lbPassedAt = new Map<string, number>();
  #listed: { at: number; containers: RuntimeInstance[]; stale: boolean } | undefined;
  readonly #failures = new Map<string, { count: number; retryAt: number }>();
  #failure: DeploymentError | undefined;
  #wake: () => void = () => {};
  /** A wake that came while the loop was busy: the next sleep returns at once. */
  #wakePending = false;

  private readonly ctx: StepContext;

  constructor(ctx: StepContext) {
    this.ctx = { ...ctx, onWorkDone: (instance, kind) => this.#workDone(instance, kind) };
  }

  get record(): DeploymentRecord {
    return this.ctx.writer.record;
  }

  /** A change from outside the loop (pause, resume, cancel, promote), written in turn with the loop's own. */
  update(change: (record: DeploymentRecord) => DeploymentRecord): Promise<DeploymentRecord> {
    return this.ctx.writer.update(change);
  }

  /** Look again now (a command changed the record, a probe changed its verdict). */
  wake(): void {
    this.#wakePending = true;
    this.#wake();
  }

  async run(): Promise<DeploymentRecord> {
    await this.#closeInterruptedSteps();
    // `running` goes out with the first tick's steps, one write for both; a failure is only
    // judged from `running`, so the tick waits for it before reacting.
    let started =
      this.record.state === 'pending' ? this.#transition(DeploymentEvent.Start, {}, 'later') : undefined;
    started?.catch(() => undefined);
    let seen: [RuntimeInstance[], BackendServer[]] | undefined = await this.#registerInRotation();
    while (!this.ctx.signal.aborted && !isTerminal(this.record.state)) {
      const target = this.#target();
      const call = { signal: this.ctx.signal };
      // The first tick plans from what registering just saw. Docker and HAProxy are read side
      // by side: each tick waits for the slower, not both.
      const [containers, servers] =
        seen ?? (await Promise.all([this.#containers(), this.ctx.lb.servers(this.ctx.app, call)]));
      seen = undefined;
      const plan = this.#plan(target, containers, servers);
      await this.#execute(plan.steps, target, containers);
      // Steps' ends held for this tick's writes go now, whether or not it began a step.
      this.ctx.writer.flush();
      await started;
      started = undefined;
      if (await this.#react(plan)) continue;
      await this.#saveStatus(plan);
      const waiting = this.#awaitingLbCheck(containers, servers);
      await this.#sleep(plan.requeueAt, waiting.length > 0 ? () => this.#lbCheckPassed(waiting) : undefined);
    }
    this.ctx.writer.flush();
    return this.record;
  }

  #target(): Target {
    const r = this.record;
    if (r.state !== 'rolling_back') return { release: r.to, instances: r.instances };
    // Rolling back a first deployment goes back to what was there before: nothing.
    return r.from ? { release: r.from, instances: r.instances } : { release: undefined, instances: 0 };
  }

  #plan(target: Target, containers: RuntimeInstance[], servers: BackendServer[]): Plan {
    const r = this.record;
    const now = this.ctx.clock.now();
    for (const s of servers)
      if (s.checkPassed && !this.#lbPassedAt.has(s.name)) this.#lbPassedAt.set(s.name, now);
    this.#adopt(containers);
    // A start that finished after the list was taken: nothing is planned for it until it shows.
    const busy = new Set([...this.#inFlight.keys(), ...this.#pendingStarts.map((p) => p.instance)]);
    for (const [instance, f] of this.#failures) if (f.retryAt > now) busy.add(instance);
    const observed = observeInstances({
      containers,
      servers,
      health: (i) => this.ctx.health.get(i),
      lbPassedAt: this.#lbPassedAt,
      steps: r.steps,
      inFlight: busy,
      pendingStarts: this.#pendingStarts,
      launched: this.#launched,
      now,
    });
    return planRollout({
      desired: {
        specHash: target.release?.specHash ?? '',
        instances: target.instances,
        replaceCreatedBefore: r.state === 'rolling_back' ? undefined : r.replaceCreatedBefore,
      },
      observed,
      strategy: {
        ...r.strategy,
        // A rollback goes back to what served before: nothing of it waits for a promotion.
        canary: r.state === 'rolling_back' ? 0 : r.strategy.canary,
        maxSurge: budgetOf(r.strategy.maxSurge),
        maxUnavailable: budgetOf(r.strategy.maxUnavailable),
      },
      progress: {
        paused: r.state === 'paused',
        promoted: r.promoted,
        startedAt: Date.parse(r.createdAt),
        lastProgressAt: r.lastProgressAt,
      },
      now,
    });
  }

  /** Probes every running container of the app, old ones too: a failing old one goes first. */
  #adopt(containers: RuntimeInstance[]) {
    for (const c of containers)
      if (c.running && c.host && c.port && !this.ctx.health.isWatched(c.instance))
        watchInstance(this.ctx, { ...c, host: c.host, port: c.port, startedAt: c.startedAt ?? c.createdAt });
  }

  /** Acts on what the plan says about the deployment as a whole; true when the state moved. */
  async #react(plan: Plan): Promise<boolean> {
    const failure =
      plan.phase === PlanPhase.Failed ? { reason: plan.reason, message: plan.message } : this.#failure;
    if (failure && this.record.state !== 'paused') {
      this.#failure = undefined;
      await this.#fail(failure);
      return true;
    }
    if (plan.phase === PlanPhase.Promote) {
      await this.ctx.writer.update((r) => ({ ...r, promoted: true }));
      return true;
    }
    if (plan.phase !== PlanPhase.Complete) return false;
    // Every step in flight ends, and is recorded, before the deployment does: a promote still
    // registering its instance, a discard still attaching the failed instance's logs.
    this.#settling = true;
    try {
      await Promise.allSettled(this.#inFlight.values());
    } finally {
      this.#settling = false;
    }
    await this.#transition(DeploymentEvent.Complete);
    return true;
  }

  async #fail(failure: DeploymentError) {
    this.ctx.log.warn({ reason: failure.reason, message: failure.message }, 'deployment failed a step');
    await this.#transition(failureEvent(this.record), {
      error: failureCause(this.record, failure),
      lastProgressAt: this.ctx.clock.now(),
    });
  }

  async #transition(event: DeploymentEvent, patch: Partial<DeploymentRecord> = {}, when?: 'later') {
    const r = this.record;
    let state = nextDeploymentState(r.state, event);
    if (!state) return;
    if (state === 'rolled_back' && r.cancelRequested) state = 'cancelled';
    const change = (rec: DeploymentRecord) => ({ ...rec, ...patch, state });
    const updated = await (when === 'later'
      ? this.ctx.writer.updateLater(change)
      : this.ctx.writer.update(change));
    this.ctx.events.emit(isTerminal(state) ? 'deployment:finished' : 'deployment:updated', updated);
  }

  async #execute(steps: Step[], target: Target, containers: RuntimeInstance[]) {
    const byName = new Map(containers.map((c) => [c.instance, c]));
    const places = await this.#placeStarts(steps, target, containers);
    for (const step of steps) {
      if (step.kind === 'start') {
        if (!target.release) continue;
        const instance = newInstanceId();
        const placed = places.shift();
        if (!placed || 'error' in placed) {
          this.#stepFailed(instance, 'start', new Error(placed?.error ?? 'no docker endpoint was chosen'));
          continue;
        }
        const { node } = placed;
        const pending: PendingStart = {
          instance,
          node,
          specHash: target.release.specHash,
          at: this.ctx.clock.now(),
        };
        this.#pendingStarts.push(pending);
        this.#launched.add(instance);
        this.#track(instance, 'start', startInstance(this.ctx, target.release, instance, node), (ok) => {
          if (ok) pending.doneAt = this.ctx.clock.now();
          else this.#pendingStarts.splice(this.#pendingStarts.indexOf(pending), 1);
        });
        continue;
      }
      const c = byName.get(step.instance);
      if (!c || this.#inFlight.has(step.instance)) continue;
      if (step.kind === 'promote')
        this.#track(c.instance, 'promote', promoteInstance(this.ctx, c, target.release!));
      if (step.kind === 'retire') this.#track(c.instance, 'retire', retireInstance(this.ctx, c));
      if (step.kind === 'discard')
        this.#track(
          c.instance,
          'discard',
          discardInstance(this.ctx, c, step.reason).then((logs) => this.#attachLogs(logs)),
        );
    }
  }

  /** Engines for the tick's starts: one fresh look at every engine's counts, then `placeStarts`. */
  async #placeStarts(steps: Step[], target: Target, containers: RuntimeInstance[]): Promise<Placement[]> {
    const count = steps.filter((s) => s.kind === 'start').length;
    if (count === 0 || !target.release) return [];
    const nodes = await this.ctx.runtime.placementNodes(this.ctx.app, { signal: this.ctx.signal });
    return placeStarts({
      nodes,
      rule: this.ctx.placement,
      count,
      containers,
      pendingStarts: this.#pendingStarts,
      targetSpec: target.release.specHash,
    });
  }

  /**
   * The app's containers: Docker's list, or the last one when it is younger than a tick and
   * nothing since changed Docker in a way glint does not know. A promote changes nothing there,
   * and a finished retire or discard removed exactly its container, so the step after either
   * is planned at once; a start, a failed step or the tick's age asks Docker again. Whatever
   * happened behind glint's back is seen within a tick, as before.
   */
  async #containers(): Promise<RuntimeInstance[]> {
    const now = this.ctx.clock.now();
    const listed = this.#listed;
    if (listed && !listed.stale && now - listed.at < TICK_MS) return listed.containers;
    const containers = await this.ctx.runtime.list(this.ctx.app, { signal: this.ctx.signal });
    this.#listed = { at: now, containers, stale: false };
    for (const p of [...this.#pendingStarts])
      if (p.doneAt !== undefined && p.doneAt <= now)
        this.#pendingStarts.splice(this.#pendingStarts.indexOf(p), 1);
    return containers;
  }

  /** What a finished step did to the containers glint last listed. */
  #noteStepEnded(instance: string, kind: string, ok: boolean) {
    const listed = this.#listed;
    if (!listed) return;
    if (!ok || kind === 'start') listed.stale = true;
    else if (kind === 'retire' || kind === 'discard')
      listed.containers = listed.containers.filter((c) => c.instance !== instance);
  }

  /**
   * A promote, retire or discard whose work is done: the next step (retiring an old instance,
   * starting the next new one) is planned now, and the step's end is written with that step's
   * beginning, one etcd round trip for both (the tick flushes the writer). The instance stays
   * busy until the write lands. A start gains nothing from this: what follows it waits for
   * health checks.
   */
  #workDone(instance: string, kind: string): boolean {
    // While the loop waits for every step to end there is no next step to ride with.
    if (kind === 'start' || this.#settling) return false;
    this.#noteStepEnded(instance, kind, true);
    this.wake();
    return true;
  }

  #track(instance: string, kind: string, work: Promise<unknown>, after: (ok: boolean) => void = () => {}) {
    let ok = false;
    const done = work
      .then(() => {
        ok = true;
        this.#failures.delete(instance);
        this.#noteStepEnded(instance, kind, true);
      })
      .catch((err: unknown) => {
        this.#noteStepEnded(instance, kind, false);
        this.#stepFailed(instance, kind, err);
      })
      .finally(() => {
        after(ok);
        this.#inFlight.delete(instance);
        this.wake();
      });
    this.#inFlight.set(instance, done);
  }

  #stepFailed(instance: string, kind: string, err: unknown) {
    if (this.ctx.signal.aborted) return;
    const message = err instanceof Error ? err.message : String(err);
    const count = (this.#failures.get(instance)?.count ?? 0) + 1;
    this.#failures.set(instance, { count, retryAt: this.ctx.clock.now() + stepBackoffMs(count) });
    this.ctx.log.warn({ instance, step: kind, attempt: count, err: message }, 'step failed');
    // A start that failed leaves no instance to retry on: it counts against the deployment at once.
    if (kind === 'start' || count >= MAX_STEP_FAILURES)
      this.#failure = { reason: 'StepFailed', message: `${kind} of instance ${instance} failed: ${message}` };
  }

  async #attachLogs(logs: string[]) {
    if (logs.length === 0) return;
    await this.ctx.writer.update((r) =>
      r.error && !r.error.logs ? { ...r, error: { ...r.error, logs } } : r,
    );
  }

  /** Saves the planner's status and counters when they changed, and when progress was made. */
  async #saveStatus(plan: Plan) {
    const now = this.ctx.clock.now();
    const at = new Date(now).toISOString();
    await this.ctx.writer.update((r) => {
      const c = plan.counts;
      const progress = {
        desired: c.desired,
        ready: c.newReady,
        starting: c.newStarting,
        old: c.oldActive + c.retiring,
        failed: c.newFailed,
      };
      const same =
        r.status?.phase === plan.phase &&
        r.status.message === plan.message &&
        sameCounts(r.progress, progress);
      if (same) return r;
      const progressed =
        progress.ready > (r.progress.ready ?? 0) ||
        progress.old < (r.progress.old ?? Number.POSITIVE_INFINITY);
      const transitioned = r.status?.phase !== plan.phase;
      return {
        ...r,
        progress,
        lastProgressAt: progressed ? now : r.lastProgressAt,
        status: {
          phase: plan.phase,
          reason: plan.reason,
          message: plan.message,
          lastTransitionAt: transitioned ? at : (r.status?.lastTransitionAt ?? at),
          lastUpdateAt: at,
        },
      };
    });
  }

  /**
   * Steps recorded as running when the daemon died never finish: a start leaves a half-made
   * container, which is removed; a promote, retire or discard is planned again from what Docker
   * and HAProxy show, as a new step. Either way the old step is closed as abandoned, so a
   * finished deployment holds no step that still claims to run.
   */
  async #closeInterruptedSteps() {
    const interrupted = this.record.steps.filter((s) => s.state === 'running');
    if (interrupted.length === 0) return;
    const open = interrupted.filter((s) => s.kind === 'start');
    const containers = open.length > 0 ? await this.ctx.runtime.list(this.ctx.app) : [];
    for (const step of open) {
      const c = containers.find((x) => x.instance === step.instance);
      // Not caught: a half-made instance that cannot be taken out stops the resume, and the
      // next leader (or this one, requeued) tries again rather than leave it behind.
      await this.ctx.lb.remove(this.ctx.app, step.instance, { signal: this.ctx.signal });
      if (c) await this.ctx.runtime.stopAndRemove(c.node, c.containerId, 0);
    }
    const seqs = new Set(interrupted.map((s) => s.seq));
    await this.ctx.writer.update((r) => ({
      ...r,
      steps: r.steps.map((s) =>
        seqs.has(s.seq)
          ? {
              ...s,
              state: 'abandoned',
              message:
                s.kind === 'start'
                  ? 'interrupted by a restart; removed'
                  : 'interrupted by a restart; taken up again',
            }
          : s,
      ),
    }));
  }

  /**
   * Instances in rotation go back into the service registry under this daemon's lease: after a
   * restart the entries the dead daemon wrote went with its lease, and only instances promoted
   * from now on would be registered. Each entry names the release its spec hash belongs to;
   * instances the record says are leaving stay out.
   */
  async #registerInRotation(): Promise<[RuntimeInstance[], BackendServer[]]> {
    const r = this.record;
    const releases = [r.to, r.from].filter((x): x is Release => x !== undefined);
    const leaving = new Set(
      r.steps.filter((s) => s.kind === 'retire' || s.kind === 'discard').map((s) => s.instance),
    );
    const call = { signal: this.ctx.signal };
    const [servers, containers] = await Promise.all([
      this.ctx.lb.servers(this.ctx.app, call),
      this.ctx.runtime.list(this.ctx.app, call),
    ]);
    this.#listed = { at: this.ctx.clock.now(), containers, stale: false };
    const inRotation = new Set(servers.filter((s) => s.state === 'ready').map((s) => s.name));
    const entries = containers.flatMap((c) => {
      const release = releases.find((x) => x.specHash === c.specHash);
      if (!release || !c.running || !c.host || !c.port) return [];
      if (!inRotation.has(c.instance) || leaving.has(c.instance)) return [];
      return [{ c: { ...c, host: c.host, port: c.port }, release }];
    });
    // Side by side: ten instances in rotation cost one round trip before the first step, not ten.
    await Promise.all(
      entries.map(({ c, release }) => this.ctx.registry.register(registryEntry(this.ctx.app, c, release))),
    );
    return [containers, servers];
  }

  /** Running instances glint's probe calls healthy while HAProxy's check has not passed yet. */
  #awaitingLbCheck(containers: RuntimeInstance[], servers: BackendServer[]): string[] {
    const passed = new Set(servers.filter((s) => s.checkPassed).map((s) => s.name));
    const present = new Set(servers.filter((s) => s.state !== 'maint').map((s) => s.name));
    return containers
      .filter((c) => c.running && present.has(c.instance) && !passed.has(c.instance))
      .filter((c) => this.ctx.health.get(c.instance)?.healthyAt !== undefined)
      .map((c) => c.instance);
  }

  /** True once HAProxy's check passed for one of `names`, noting when it was seen. */
  async #lbCheckPassed(names: string[]): Promise<boolean> {
    const servers = await this.ctx.lb.servers(this.ctx.app, { signal: this.ctx.signal }).catch(() => []);
    const now = this.ctx.clock.now();
    const passed = servers.filter((s) => names.includes(s.name) && s.checkPassed);
    for (const s of passed) if (!this.#lbPassedAt.has(s.name)) this.#lbPassedAt.set(s.name, now);
    return passed.length > 0;
  }

  /**
   * Until `until`, the tick, a wake or the abort. With `poll`, also until it says so, asked
   * every LB_CHECK_POLL_MS: while only HAProxy's check holds up an instance glint's probe calls
   * healthy, the moment both agree starts `minHealthyTime`, and a full tick (Docker included)
   * at that pace would cost far more than reading HAProxy.
   */
  #sleep(until: number | undefined, poll?: () => Promise<boolean>): Promise<void> {
    const ms = Math.max(10, Math.min(TICK_MS, (until ?? Number.POSITIVE_INFINITY) - this.ctx.clock.now()));
    if (this.#wakePending) {
      this.#wakePending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      let settled = false;
      const done = () => {
        settled = true;
        this.#wakePending = false;
        clearTimeout(timer);
        this.ctx.signal.removeEventListener('abort', done);
        this.#wake = () => {};
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
      this.ctx.signal.addEventListener('abort', done, { once: true });
      if (!poll) return;
      void (async () => {
        while (!settled) {
          await new Promise((r) => setTimeout(r, LB_CHECK_POLL_MS));
          if (!settled && (await poll())) done();
        }
      })();
    });
  }
}

const budgetOf = (b: number | string): Budget => (typeof b === 'number' ? b : (b as `${number}%`));

/**
 * What a failure does: a rollback or a heal fails for good; `pause` pauses; `rollback` rolls back to
 * the previous release (to nothing for a first deployment), unless the deployment did not
 * change the release (heal, scale, rotate), where there is nothing to go back to.
 */
function failureEvent(r: DeploymentRecord): DeploymentEvent {
  if (r.state === 'rolling_back') return DeploymentEvent.Fail;
  // A paused heal would hold the app's lock while nobody asked for it: it fails, and the
  // reconciler tries again after its crash-loop backoff.
  if (r.kind === 'heal') return DeploymentEvent.Fail;
  if (r.strategy.onFailure === 'pause') return DeploymentEvent.FailPause;
  if (!r.from || r.from.specHash !== r.to.specHash) return DeploymentEvent.FailRollback;
  return DeploymentEvent.Fail;
}

function sameCounts(a: Record<string, number>, b: Record<string, number>) {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => a[k] === b[k]);
}
