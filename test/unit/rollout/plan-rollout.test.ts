import { describe, expect, it } from 'vitest';
import { LbMembership, PlanPhase, PlanReason, planRollout } from '../../../src/rollout/index.ts';
import {
  c,
  kinds,
  NEW,
  OLD,
  type Row,
  ready,
  starting,
  strategy,
  summarize,
  T0,
  toInput,
  unhealthy,
} from './plan-builders.ts';

// biome-ignore format: one row, two lines, as a table reads best
const rows: Row[] = [
  { name: 'surges one new before touching old', replicas: 3, maxSurge: 1, maxUnavailable: 0,
    old: c(3), next: c(0), want: { start: 1, drain: 0, phase: 'Progressing' } },
  { name: 'surges two new before touching old', replicas: 10, maxSurge: 2, maxUnavailable: 0,
    old: c(10), next: c(0), want: { start: 2, drain: 0, phase: 'Progressing' } },
  { name: 'waits while new containers are starting', replicas: 10, maxSurge: 2, maxUnavailable: 0,
    old: c(10), next: c(0, 2), want: { start: 0, drain: 0, phase: 'Waiting' } },
  { name: 'drains two old once two new are ready', replicas: 10, maxSurge: 2, maxUnavailable: 0,
    old: c(10), next: c(2), want: { start: 0, drain: 2, phase: 'Progressing' } },
  { name: 'an unhealthy new container fails the rollout and starts nothing', replicas: 10, maxSurge: 2,
    maxUnavailable: 0, old: c(8), next: c(1, 0, 1), want: { start: 0, drain: 0, phase: 'Failed' } },
  { name: 'budgets rounding to zero still allow one unavailable', replicas: 3, maxSurge: 0,
    maxUnavailable: '10%', old: c(3), next: c(0), want: { start: 0, drain: 1, phase: 'Progressing' } },
  { name: 'percent surge rounds up', replicas: 10, maxSurge: '25%', maxUnavailable: 0,
    old: c(10), next: c(0), want: { start: 3, drain: 0, phase: 'Progressing' } },
  { name: 'percent unavailable rounds down', replicas: 10, maxSurge: 0, maxUnavailable: '25%',
    old: c(10), next: c(0), want: { start: 0, drain: 2, phase: 'Progressing' } },
  { name: 'surge and unavailable together start and drain in one tick', replicas: 4, maxSurge: 1,
    maxUnavailable: 1, old: c(4), next: c(0), want: { start: 1, drain: 1, phase: 'Progressing' } },
  { name: 'unhealthy old instances leave first and do not count as available', replicas: 3,
    maxSurge: 1, maxUnavailable: 0, old: c(2, 0, 1), next: c(0),
    want: { start: 1, drain: 0, phase: 'Progressing' } },
  { name: 'starting old instances are retired without waiting for budget', replicas: 3,
    maxSurge: 1, maxUnavailable: 0, old: c(3, 1), next: c(0), want: { start: 0, drain: 1, phase: 'Progressing' } },
  { name: 'a fresh app starts every instance it may', replicas: 3, maxSurge: 1, maxUnavailable: 0,
    old: c(0), next: c(0), want: { start: 3, drain: 0, phase: 'Progressing' } },
  { name: 'a missing instance is replaced', replicas: 3, maxSurge: 1, maxUnavailable: 0,
    old: c(0), next: c(2), want: { start: 1, drain: 0, phase: 'Progressing' } },
  { name: 'scale up starts the difference within the surge', replicas: 5, maxSurge: 1, maxUnavailable: 0,
    old: c(0), next: c(3), want: { start: 2, drain: 0, phase: 'Progressing' } },
  { name: 'scale down retires the excess at once', replicas: 2, maxSurge: 1, maxUnavailable: 0,
    old: c(0), next: c(5), want: { start: 0, drain: 3, phase: 'Progressing' } },
  { name: 'scale to zero retires everything', replicas: 0, maxSurge: 1, maxUnavailable: 0,
    old: c(0), next: c(3), want: { start: 0, drain: 3, phase: 'Progressing' } },
  { name: 'all new ready and no old is complete', replicas: 3, maxSurge: 1, maxUnavailable: 0,
    old: c(0), next: c(3), want: { start: 0, drain: 0, phase: 'Complete' } },
  { name: 'the last old instance goes once every new one is ready', replicas: 3, maxSurge: 1,
    maxUnavailable: 0, old: c(1), next: c(3), want: { start: 0, drain: 1, phase: 'Progressing' } },
];

describe('planRollout', () => {
  it.each(rows)('$name', (row) => {
    expect(summarize(planRollout(toInput(row)))).toEqual(row.want);
  });

  it('never starts while the surge is used up by instances still retiring', () => {
    const plan = planRollout({
      ...toInput({
        name: '',
        replicas: 3,
        maxSurge: 1,
        maxUnavailable: 0,
        old: c(2),
        next: c(1),
        want: { start: 0, drain: 0, phase: 'Waiting' },
      }),
      observed: [ready(OLD, { retiring: true, busy: true }), ready(OLD), ready(OLD), ready(NEW)],
    });
    expect(summarize(plan)).toEqual({ start: 0, drain: 0, phase: PlanPhase.Waiting });
  });

  it('promotes a staged instance only after minHealthyTime and asks to look again then', () => {
    const fresh = starting(NEW, { healthyAt: T0 - 2_000, lb: LbMembership.Staged });
    const seasoned = starting(NEW, { healthyAt: T0 - 6_000, lb: LbMembership.Staged });
    const plan = planRollout({ ...toInput(base(3)), observed: [ready(OLD), ready(OLD), fresh, seasoned] });
    expect(kinds(plan)).toEqual([`promote ${seasoned.instance}`]);
    expect(plan.requeueAt).toBe(T0 + 3_000);
  });

  it('a new instance not healthy within healthyDeadline fails with that reason', () => {
    const late = starting(NEW, { watchedSince: T0 - 61_000, failure: 'connection refused' });
    const plan = planRollout({ ...toInput(base(3)), observed: [ready(OLD), ready(OLD), ready(OLD), late] });
    expect(plan.phase).toBe(PlanPhase.Failed);
    expect(plan.reason).toBe(PlanReason.HealthyDeadlineExceeded);
    expect(plan.message).toContain('connection refused');
    expect(kinds(plan)).toEqual([`discard ${late.instance}`]);
  });

  it('a crashed new instance in rotation is pulled out in the same plan that reports the failure', () => {
    const crashed = ready(NEW, { running: false, failure: 'exit code 1' });
    const plan = planRollout({
      ...toInput(base(3)),
      observed: [ready(OLD), ready(OLD), ready(OLD), crashed],
    });
    expect(plan.reason).toBe(PlanReason.InstanceCrashed);
    expect(kinds(plan)).toEqual([`discard ${crashed.instance}`]);
  });

  it('an old instance that crashed is discarded and replaced, not a failure of the rollout', () => {
    const dead = ready(OLD, { running: false });
    const plan = planRollout({ ...toInput(base(3)), observed: [dead, ready(OLD), ready(OLD)] });
    expect(plan.phase).toBe(PlanPhase.Progressing);
    expect(kinds(plan)).toEqual([`discard ${dead.instance}`, 'start']);
  });

  it('a heal: an inherited instance of the desired revision that died or failed health is replaced, not a failure', () => {
    const dead = ready(NEW, { running: false, failure: 'exited with code 137', inherited: true });
    const sick = unhealthy(NEW, { lb: LbMembership.Ready, inherited: true });
    const plan = planRollout({
      ...toInput(base(3)),
      observed: [dead, sick, ready(NEW, { inherited: true })],
    });
    expect(plan.phase).toBe(PlanPhase.Progressing);
    expect(kinds(plan)).toEqual([`discard ${dead.instance}`, `discard ${sick.instance}`, 'start']);
  });

  it('a heal: a new instance it started that dies fails it', () => {
    const crashed = starting(NEW, { running: false, failure: 'exited with code 3' });
    const plan = planRollout({
      ...toInput(base(2)),
      observed: [ready(NEW, { inherited: true }), crashed],
    });
    expect(plan.phase).toBe(PlanPhase.Failed);
    expect(plan.reason).toBe(PlanReason.InstanceCrashed);
  });

  it('a paused rollout places and retires nothing, but still pulls failed instances', () => {
    const bad = unhealthy(NEW);
    const input = toInput(base(3));
    const plan = planRollout({
      ...input,
      observed: [ready(OLD), ready(OLD), ready(OLD), ready(NEW), bad],
      progress: { ...input.progress, paused: true },
    });
    expect(plan.phase).toBe(PlanPhase.Paused);
    expect(kinds(plan)).toEqual([`discard ${bad.instance}`]);
  });

  it('fails when nothing progressed within progressDeadline', () => {
    const input = toInput(base(3));
    const plan = planRollout({
      ...input,
      observed: [ready(OLD), ready(OLD), ready(OLD), starting(NEW, { watchedSince: T0 })],
      progress: { ...input.progress, lastProgressAt: T0 - 600_001 },
    });
    expect(plan.reason).toBe(PlanReason.ProgressDeadlineExceeded);
  });

  it('takes up a retire that began before a restart, whatever else it plans', () => {
    const half = ready(OLD, { retiring: true, lb: LbMembership.Staged });
    const input = toInput(base(2));
    const plan = planRollout({ ...input, observed: [half, ready(OLD), ready(NEW)] });
    expect(kinds(plan)).toEqual([`retire ${half.instance}`]);
    const paused = planRollout({
      ...input,
      observed: [half, ready(OLD), ready(NEW)],
      progress: { ...input.progress, paused: true },
    });
    expect(kinds(paused)).toEqual([`retire ${half.instance}`]);
  });

  it('does not plan for an instance whose step is in flight', () => {
    const staged = starting(NEW, { healthyAt: T0 - 10_000, lb: LbMembership.Staged, busy: true });
    const plan = planRollout({ ...toInput(base(3)), observed: [ready(OLD), ready(OLD), ready(OLD), staged] });
    expect(plan.steps).toEqual([]);
    expect(plan.phase).toBe(PlanPhase.Waiting);
  });

  it('a rotation replaces instances of the same revision created before it began', () => {
    const input = toInput(base(2));
    const plan = planRollout({
      ...input,
      desired: { specHash: NEW, instances: 2, replaceCreatedBefore: T0 - 1 },
      observed: [ready(NEW), ready(NEW)],
    });
    expect(summarize(plan)).toEqual({ start: 1, drain: 0, phase: PlanPhase.Progressing });
  });
});

describe('planRollout with canaries', () => {
  const canary = (over: Partial<ReturnType<typeof strategy>> = {}) => {
    const input = toInput(base(4));
    return { ...input, strategy: strategy({ canary: 1, ...over }) };
  };

  it('starts the canary beside the old instances and retires none', () => {
    const plan = planRollout({ ...canary(), observed: [ready(OLD), ready(OLD), ready(OLD), ready(OLD)] });
    expect(summarize(plan)).toEqual({ start: 1, drain: 0, phase: PlanPhase.Progressing });
  });

  it('waits for promotion once the canary is ready', () => {
    const plan = planRollout({
      ...canary(),
      observed: [ready(OLD), ready(OLD), ready(OLD), ready(OLD), ready(NEW)],
    });
    expect(summarize(plan)).toEqual({ start: 0, drain: 0, phase: PlanPhase.AwaitingPromotion });
    expect(plan.requeueAt).toBeUndefined();
  });

  it('never times out while awaiting a person', () => {
    const input = canary();
    const plan = planRollout({
      ...input,
      observed: [ready(OLD), ready(OLD), ready(OLD), ready(OLD), ready(NEW)],
      progress: { ...input.progress, lastProgressAt: T0 - 3_600_000 },
    });
    expect(plan.phase).toBe(PlanPhase.AwaitingPromotion);
  });

  it('asks for promotion once autoPromoteAfter has passed', () => {
    const input = canary({ autoPromoteAfter: 5_000 });
    const observed = [ready(OLD), ready(OLD), ready(OLD), ready(OLD), ready(NEW)];
    const early = planRollout({
      ...input,
      observed,
      progress: { ...input.progress, lastProgressAt: T0 - 1_000 },
    });
    expect(early.phase).toBe(PlanPhase.AwaitingPromotion);
    expect(early.requeueAt).toBe(T0 + 4_000);
    const due = planRollout({
      ...input,
      observed,
      progress: { ...input.progress, lastProgressAt: T0 - 5_000 },
    });
    expect(due.phase).toBe(PlanPhase.Promote);
  });

  it('rolls on as usual once promoted', () => {
    const input = canary();
    const plan = planRollout({
      ...input,
      observed: [ready(OLD), ready(OLD), ready(OLD), ready(OLD), ready(NEW)],
      progress: { ...input.progress, promoted: true },
    });
    expect(summarize(plan)).toEqual({ start: 0, drain: 1, phase: PlanPhase.Progressing });
  });
});

function base(replicas: number): Row {
  return {
    name: '',
    replicas,
    maxSurge: 1,
    maxUnavailable: 0,
    old: c(0),
    next: c(0),
    want: { start: 0, drain: 0, phase: 'Waiting' },
  };
}
