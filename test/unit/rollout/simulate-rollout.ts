import {
  LbMembership,
  type ObservedInstance,
  type Plan,
  type PlanInput,
  PlanPhase,
  planRollout,
  type RolloutStrategy,
} from '../../../src/rollout/index.ts';

/** What a new instance of the simulated revision does: become healthy after some ticks, crash (after being healthy at tick 1), or never pass. */
export type Fate = { healthyAfter: number } | { crashAfter: number } | { neverHealthy: true };

export type Scenario = {
  instances: number;
  initialOld: number;
  strategy: RolloutStrategy;
  /** One fate per instance the rollout starts, in order; past the end, instances are healthy. */
  fates: Fate[];
  drainTicks: number;
};

type SimInstance = ObservedInstance & { fate: Fate; bornTick: number; leaveAtTick?: number };

export type Tick = { input: PlanInput; plan: Plan; instances: SimInstance[] };

const TICK = 1_000;

/**
 * Runs planner → fake executor → fake health until the rollout ends, handing every tick to
 * `check`. A failed rollout turns into a rollback to the old revision (whose instances are
 * always healthy), as `onFailure: rollback` does. Returns how it ended.
 */
export function simulateRollout(s: Scenario, check: (tick: Tick) => void, maxTicks = 2_000) {
  let now = 1_000_000;
  let serial = 0;
  let desired = 'new';
  let fateIndex = 0;
  let rolledBack = false;
  const progress = { paused: false, promoted: false, startedAt: now, lastProgressAt: now };
  let instances: SimInstance[] = Array.from({ length: s.initialOld }, () => ({
    instance: `o${serial++}`,
    node: 'n',
    specHash: 'old',
    createdAt: now - 1e6,
    watchedSince: now - 1e6,
    running: true,
    healthyAt: now - 1e6,
    lb: LbMembership.Ready,
    retiring: false,
    busy: false,
    fate: { healthyAfter: 0 },
    bornTick: -1,
  }));
  for (let tick = 0; tick < maxTicks; tick++) {
    instances = instances.filter((i) => i.leaveAtTick === undefined || i.leaveAtTick > tick);
    for (const i of instances) evolve(i, tick, now);
    const input: PlanInput = {
      desired: { specHash: desired, instances: s.instances },
      observed: instances.map(({ fate, bornTick, leaveAtTick, ...o }) => o),
      strategy: s.strategy,
      progress: { ...progress },
      now,
    };
    const plan = planRollout(input);
    check({ input, plan, instances });
    if (plan.phase === PlanPhase.Complete) return { ended: 'complete' as const, rolledBack, ticks: tick };
    if (plan.phase === PlanPhase.Failed) {
      if (rolledBack) return { ended: 'failed' as const, rolledBack, ticks: tick };
      rolledBack = true;
      desired = 'old';
      Object.assign(progress, { promoted: true, lastProgressAt: now });
    }
    if (plan.phase === PlanPhase.Promote) progress.promoted = true;
    const readyBefore = instances.filter((i) => i.lb === LbMembership.Ready && !i.retiring).length;
    for (const step of plan.steps) {
      if (step.kind === 'start') {
        const fate = desired === 'new' ? (s.fates[fateIndex++] ?? { healthyAfter: 1 }) : { healthyAfter: 1 };
        instances.push({
          instance: `n${serial++}`,
          node: 'n',
          specHash: desired,
          createdAt: now,
          watchedSince: now,
          running: true,
          lb: LbMembership.Absent,
          retiring: false,
          busy: false,
          fate,
          bornTick: tick,
        });
        continue;
      }
      const target = instances.find((i) => i.instance === step.instance)!;
      if (step.kind === 'promote') target.lb = LbMembership.Ready;
      if (step.kind === 'discard') {
        target.busy = true;
        target.leaveAtTick = tick + 1;
      }
      if (step.kind === 'retire') {
        target.retiring = true;
        target.busy = true;
        target.leaveAtTick = tick + 1 + s.drainTicks;
      }
    }
    const readyAfter = instances.filter((i) => i.lb === LbMembership.Ready && !i.retiring).length;
    if (readyAfter > readyBefore) progress.lastProgressAt = now;
    now += TICK;
  }
  return { ended: 'stuck' as const, rolledBack, ticks: maxTicks };
}

function evolve(i: SimInstance, tick: number, now: number) {
  if (i.bornTick < 0 || !i.running) return;
  const age = tick - i.bornTick;
  const healthyAfter =
    'healthyAfter' in i.fate ? i.fate.healthyAfter : 'crashAfter' in i.fate ? 1 : undefined;
  if (healthyAfter !== undefined && age >= healthyAfter && i.healthyAt === undefined) {
    i.healthyAt = now;
    if (i.lb === LbMembership.Absent) i.lb = LbMembership.Staged;
  }
  if ('crashAfter' in i.fate && age >= i.fate.crashAfter) i.running = false;
}
