import type { AppConfig } from '../config/index.ts';
import { GlintError } from '../errors/index.ts';
import { StateErrorCode, type Versioned } from '../etcd/index.ts';
import type { Logger } from '../log/index.ts';
import type { Clock, DeploymentRequest, RuntimeInstance } from '../rollout/index.ts';
import { type CronSchedule, cronSchedule } from './cron-schedule.ts';
import { type AgeRotationPlan, planAgeRotation } from './plan-age-rotation.ts';
import { type CronDecision, planCronRotation } from './plan-cron-rotation.ts';
import { RotationSkipReason, RotationTrigger } from './rotation-reasons.ts';
import type { RotationRecord, RotationRun } from './rotation-record.ts';
import type { RotationStore } from './rotation-store.ts';

export type RotationSchedulerDeps = {
  /** Read at every look, so a reloaded declaration is used as soon as `reload()` is called. */
  apps: () => Readonly<Record<string, AppConfig>>;
  /** The app's containers (the engine's ContainerRuntime.list); only running ones age. */
  instances: (app: string) => Promise<readonly Pick<RuntimeInstance, 'instance' | 'createdAt' | 'running'>[]>;
  startDeployment: (app: string, request: DeploymentRequest) => Promise<{ id: string }>;
  store: RotationStore;
  clock: Clock;
  log: Logger;
  /** How late a missed cron run may still run. Default 1 hour. */
  missedWindowMs?: number;
  /** How soon a look that failed, or a maxAge rotation refused by an active deployment, is tried again. Default 15 s. */
  retryMs?: number;
  /** Each rotation started or skipped, as recorded (for the event stream). */
  onRun?: (app: string, run: RotationRun) => void;
  /** The longest a timer sleeps before looking again. Default 5 minutes. */
  maxSleepMs?: number;
};

export type ScheduledRotation = { at: string; trigger: RotationTrigger };

type AppSlot = {
  schedule: CronSchedule | undefined;
  /** Set when a reload added or changed the schedule: slots before it are not owed. */
  scheduledSince?: number;
  timer?: NodeJS.Timeout;
  looking?: Promise<void>;
  lookAgain?: boolean;
  next?: ScheduledRotation;
  /** The active deployment a maxAge rotation last waited for, so the wait is logged once. */
  waitingFor?: string;
};

type Rotation = {
  trigger: RotationTrigger;
  cause: string;
  slot?: number;
  replaceCreatedBefore?: number;
  instances?: string[];
};

const iso = (at: number) => new Date(at).toISOString();

/**
 * Runs each app's cron and maxAge rotations while this daemon leads: `start()` on election,
 * `stop()` when deposed, `reload()` after the declaration changed. One timer per app wakes
 * it at the app's next cron slot or next instance due, and every look decides afresh from
 * etcd's record, the instances and the clock (`planCronRotation`, `planAgeRotation`).
 *
 * A cron slot is taken by a compare-and-swap on the app's record before the rotation starts,
 * so it runs at most once whichever daemons see it. When a deployment of the app is active,
 * the cron run is skipped and logged (that deployment is replacing instances already), while
 * maxAge, which follows the instances' ages, simply looks again `retryMs` later.
 */
export class RotationScheduler {
  readonly #deps: Required<RotationSchedulerDeps>;
  readonly #apps = new Map<string, AppSlot>();
  #leaderSince = 0;
  #running = false;

  constructor(deps: RotationSchedulerDeps) {
    this.#deps = {
      missedWindowMs: 3_600_000,
      retryMs: 15_000,
      maxSleepMs: 300_000,
      onRun: () => {},
      ...deps,
    };
  }

  /** Begins scheduling; runs missed slots younger than the window at once. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#leaderSince = this.#deps.clock.now();
    this.#sync(undefined);
  }

  /** Picks up the current declaration: new, changed and removed apps and schedules. */
  reload(): void {
    if (this.#running) this.#sync(this.#deps.clock.now());
  }

  /** At election a schedule is inherited (missed slots are owed); after a reload a new one starts now. */
  #sync(changedAt: number | undefined): void {
    const apps = this.#deps.apps();
    for (const [name, slot] of this.#apps)
      if (!hasRotation(apps[name])) {
        clearTimeout(slot.timer);
        this.#apps.delete(name);
      }
    for (const [name, config] of Object.entries(apps)) {
      if (!hasRotation(config)) continue;
      const { cron, timezone } = config.rotation;
      const known = this.#apps.get(name);
      const same = known?.schedule?.expression === cron && known?.schedule?.timezone === timezone;
      const slot: AppSlot = known ?? { schedule: undefined };
      if (!same) {
        slot.schedule = cron ? cronSchedule(cron, timezone) : undefined;
        if (changedAt === undefined) delete slot.scheduledSince;
        else slot.scheduledSince = changedAt;
      }
      this.#apps.set(name, slot);
      this.#look(name);
    }
  }

  /** Stops every timer and waits for looks in flight; records stay for the next leader. */
  async stop(): Promise<void> {
    this.#running = false;
    for (const slot of this.#apps.values()) clearTimeout(slot.timer);
    await Promise.allSettled([...this.#apps.values()].map((s) => s.looking));
    this.#apps.clear();
  }

  /** Each scheduled app's next rotation (cron slot or first instance due), for the API. */
  nextRuns(): Record<string, ScheduledRotation> {
    const out: Record<string, ScheduledRotation> = {};
    for (const [name, slot] of this.#apps) if (slot.next) out[name] = slot.next;
    return out;
  }

  /** The app's next rotation as an ISO time; null when none is scheduled here. */
  nextRun(app: string): string | null {
    return this.#apps.get(app)?.next?.at ?? null;
  }

  /** Looks at one app now; a look already under way looks again when it ends. */
  #look(app: string): void {
    const slot = this.#apps.get(app);
    if (!slot || !this.#running) return;
    if (slot.looking) {
      slot.lookAgain = true;
      return;
    }
    clearTimeout(slot.timer);
    slot.looking = this.#decide(app, slot)
      .catch((err) => {
        this.#deps.log.error({ err, app }, 'could not decide on a rotation; looking again later');
        return this.#deps.clock.now() + this.#deps.retryMs;
      })
      .then((wakeAt) => {
        slot.looking = undefined;
        if (!this.#running || this.#apps.get(app) !== slot) return;
        if (slot.lookAgain) {
          slot.lookAgain = false;
          this.#look(app);
          return;
        }
        const delay = Math.min(Math.max(0, wakeAt - this.#deps.clock.now()), this.#deps.maxSleepMs);
        slot.timer = setTimeout(() => this.#look(app), delay);
      });
  }

  /** One look: decide, act, and return when to look next. */
  async #decide(app: string, slot: AppSlot): Promise<number> {
    const config = this.#deps.apps()[app];
    if (!config) return Number.POSITIVE_INFINITY;
    const now = this.#deps.clock.now();
    const stored = await this.#deps.store.get(app);
    const cron = planCronRotation({
      schedule: slot.schedule,
      lastSlot: stored?.record.lastSlot === undefined ? undefined : Date.parse(stored.record.lastSlot),
      leaderSince: this.#leaderSince,
      scheduledSince: slot.scheduledSince,
      now,
      missedWindow: this.#deps.missedWindowMs,
    });
    const age = await this.#ages(app, config, now);
    let retryAt: number | undefined;
    if (cron.decision.action === 'run') await this.#runCron(app, slot, stored, cron.decision);
    else if (cron.decision.action === 'skip') await this.#skipCron(app, slot, stored, cron.decision, now);
    else if (age.due.length > 0 && !(await this.#runAged(app, slot, stored, config, age)))
      retryAt = now + this.#deps.retryMs;
    const candidates: Array<[number | undefined, RotationTrigger]> = [
      [cron.nextRunAt, RotationTrigger.Cron],
      [age.nextDueAt, RotationTrigger.MaxAge],
      [retryAt, RotationTrigger.MaxAge],
    ];
    const [at, trigger] = candidates
      .filter((c): c is [number, RotationTrigger] => c[0] !== undefined)
      .sort((a, b) => a[0] - b[0])[0] ?? [undefined, RotationTrigger.Cron];
    if (at === undefined) delete slot.next;
    else slot.next = { at: iso(at), trigger };
    // Without anything scheduled, a look now and then still notices a rotation that failed.
    return at ?? now + this.#deps.maxSleepMs;
  }

  async #ages(app: string, config: AppConfig, now: number): Promise<AgeRotationPlan> {
    const { maxAge, jitter } = config.rotation;
    if (maxAge === undefined) return { due: [] };
    const running = (await this.#deps.instances(app)).filter((i) => i.running);
    return planAgeRotation({ maxAge, jitter, instances: running, now });
  }

  async #runCron(
    app: string,
    slot: AppSlot,
    stored: Versioned<RotationRecord> | undefined,
    decision: Extract<CronDecision, { action: 'run' }>,
  ): Promise<void> {
    const when = `${slot.schedule?.expression} (${slot.schedule?.timezone}) at ${iso(decision.slot)}`;
    const cause = `rotation: cron ${when}${decision.missed ? ', missed while no daemon led' : ''}`;
    await this.#claimAndStart(app, stored, { trigger: RotationTrigger.Cron, cause, slot: decision.slot });
  }

  async #skipCron(
    app: string,
    slot: AppSlot,
    stored: Versioned<RotationRecord> | undefined,
    decision: Extract<CronDecision, { action: 'skip' }>,
    now: number,
  ): Promise<void> {
    const run: RotationRun = {
      trigger: RotationTrigger.Cron,
      at: iso(now),
      slot: iso(decision.slot),
      outcome: 'skipped',
      reason: decision.reason,
      message: decision.message,
    };
    const saved = await this.#save(app, stored, run, decision.slot);
    if (saved !== undefined) this.#deps.onRun(app, run);
    if (saved !== undefined)
      this.#deps.log.warn(
        { app, cron: slot.schedule?.expression, reason: decision.reason },
        decision.message,
      );
  }

  /** Starts a maxAge rotation; false when it must be tried again later. */
  async #runAged(
    app: string,
    slot: AppSlot,
    stored: Versioned<RotationRecord> | undefined,
    config: AppConfig,
    age: AgeRotationPlan,
  ): Promise<boolean> {
    const ids = age.due.map((i) => i.instance);
    const cause = `rotation: older than maxAge ${(config.rotation.maxAge ?? 0) / 1000}s: ${ids.join(', ')}`;
    const rotation: Rotation = { trigger: RotationTrigger.MaxAge, cause, instances: ids };
    if (age.replaceCreatedBefore !== undefined) rotation.replaceCreatedBefore = age.replaceCreatedBefore;
    try {
      const started = await this.#deps.startDeployment(app, this.#request(rotation));
      slot.waitingFor = undefined;
      this.#deps.log.info({ app, deploymentId: started.id, instances: ids }, 'maxAge rotation started');
      await this.#note(app, stored, this.#run(rotation, 'started', { deploymentId: started.id }));
      return true;
    } catch (err) {
      const active = activeDeploymentOf(err);
      if (active === undefined) throw err;
      if (slot.waitingFor !== active)
        this.#deps.log.info(
          {
            app,
            activeDeploymentId: active,
            instances: ids,
            reason: RotationSkipReason.DeploymentInProgress,
          },
          'maxAge rotation waits for the active deployment to end',
        );
      slot.waitingFor = active;
      return false;
    }
  }

  /** Takes the cron slot with a compare-and-swap, then starts the rotation; another taker wins quietly. */
  async #claimAndStart(
    app: string,
    stored: Versioned<RotationRecord> | undefined,
    r: Rotation,
  ): Promise<void> {
    const log = this.#deps.log;
    const taken = await this.#save(app, stored, this.#run(r, 'started'), r.slot);
    if (taken === undefined) {
      log.info({ app, slot: r.slot && iso(r.slot) }, 'cron rotation already taken by another daemon');
      return;
    }
    let outcome: Partial<RotationRun>;
    try {
      const started = await this.#deps.startDeployment(app, this.#request(r));
      log.info({ app, deploymentId: started.id, cause: r.cause }, 'cron rotation started');
      outcome = { deploymentId: started.id };
    } catch (err) {
      const active = activeDeploymentOf(err);
      const reason =
        active === undefined ? RotationSkipReason.StartFailed : RotationSkipReason.DeploymentInProgress;
      const message =
        active === undefined
          ? `the cron rotation could not start: ${err instanceof Error ? err.message : String(err)}`
          : `the cron rotation was skipped: deployment ${active} of the app is active (one at a time); the next slot runs as usual`;
      log[active === undefined ? 'error' : 'info']({ app, reason, activeDeploymentId: active }, message);
      outcome = { reason, message };
    }
    const run = this.#run(r, outcome.reason ? 'skipped' : 'started', outcome);
    await this.#note(app, taken, run, r.slot);
  }

  /** Adds what happened to a record this look wrote; a failure costs only the note, not the rotation. */
  async #note(
    app: string,
    taken: Versioned<RotationRecord> | undefined,
    run: RotationRun,
    cronSlot?: number,
  ) {
    try {
      await this.#save(app, taken, run, cronSlot);
      this.#deps.onRun(app, run);
    } catch (err) {
      this.#deps.log.warn({ err, app }, 'could not record the rotation');
    }
  }

  #request(r: Rotation): DeploymentRequest {
    const request: DeploymentRequest = { kind: 'rotate', cause: r.cause };
    if (r.replaceCreatedBefore !== undefined) request.replaceCreatedBefore = r.replaceCreatedBefore;
    return request;
  }

  #run(r: Rotation, outcome: RotationRun['outcome'], extra: Partial<RotationRun> = {}): RotationRun {
    const run: RotationRun = { trigger: r.trigger, at: iso(this.#deps.clock.now()), outcome, ...extra };
    if (r.slot !== undefined) run.slot = iso(r.slot);
    if (r.instances) run.instances = r.instances;
    return run;
  }

  /** Compare-and-swap on what was read; undefined when another writer moved the record. */
  async #save(
    app: string,
    stored: Versioned<RotationRecord> | undefined,
    last: RotationRun,
    cronSlot?: number,
  ): Promise<Versioned<RotationRecord> | undefined> {
    const record: RotationRecord = { app, last, updatedAt: iso(this.#deps.clock.now()) };
    const lastSlot = cronSlot === undefined ? stored?.record.lastSlot : iso(cronSlot);
    if (lastSlot !== undefined) record.lastSlot = lastSlot;
    const revision = await this.#deps.store.save(record, { expectedModRevision: stored?.modRevision ?? 0 });
    return revision === undefined ? undefined : { record, modRevision: revision };
  }
}

function hasRotation(config: AppConfig | undefined): config is AppConfig {
  return config?.rotation.cron !== undefined || config?.rotation.maxAge !== undefined;
}

/** The active deployment's id when `err` is the engine's one-active-deployment refusal. */
function activeDeploymentOf(err: unknown): string | undefined {
  if (!(err instanceof GlintError) || err.code !== StateErrorCode.DeploymentInProgress) return undefined;
  const id = err.details?.activeDeploymentId;
  return typeof id === 'string' ? id : 'unknown';
}
