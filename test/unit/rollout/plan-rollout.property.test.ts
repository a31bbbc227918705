import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LbMembership, PlanPhase, planRollout, resolveBudget } from '../../../src/rollout/index.ts';
import { type Fate, type Scenario, simulateRollout, type Tick } from './simulate-rollout.ts';

const budget = fc.oneof(fc.integer({ min: 0, max: 4 }), fc.constantFrom('0%', '10%', '25%', '50%', '100%'));
const fate: fc.Arbitrary<Fate> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ healthyAfter: fc.integer({ min: 0, max: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ crashAfter: fc.integer({ min: 1, max: 12 }) }) },
  { weight: 1, arbitrary: fc.constant({ neverHealthy: true as const }) },
);
const scenario: fc.Arbitrary<Scenario> = fc
  .record({
    instances: fc.integer({ min: 0, max: 12 }),
    initialOld: fc.integer({ min: 0, max: 12 }),
    maxSurge: budget,
    maxUnavailable: budget,
    canary: fc.integer({ min: 0, max: 3 }),
    minHealthyTime: fc.integer({ min: 0, max: 4_000 }),
    fates: fc.array(fate, { maxLength: 20 }),
    drainTicks: fc.integer({ min: 0, max: 4 }),
  })
  .map((r) => ({
    instances: r.instances,
    initialOld: r.initialOld,
    fates: r.fates,
    drainTicks: r.drainTicks,
    strategy: {
      maxSurge: r.maxSurge as Scenario['strategy']['maxSurge'],
      maxUnavailable: r.maxUnavailable as Scenario['strategy']['maxUnavailable'],
      minHealthyTime: r.minHealthyTime,
      healthyDeadline: 10_000,
      progressDeadline: 120_000,
      onFailure: 'rollback' as const,
      canary: r.canary,
      autoPromoteAfter: 3_000,
    },
  }));

function ceiling(s: Scenario) {
  const { surge } = resolveBudget(s.strategy.maxSurge, s.strategy.maxUnavailable, s.instances);
  return Math.max(s.initialOld, s.instances + Math.max(surge, s.strategy.canary));
}

const inRotation = (t: Tick) => t.instances.filter((i) => i.lb === LbMembership.Ready && !i.retiring);

fc.configureGlobal({ numRuns: Number(process.env.FC_RUNS ?? 100) });

// Generous: a hundred simulated rollouts per property on a busy two-core machine.
describe('planRollout, over random strategies, sizes and failure sequences', { timeout: 300_000 }, () => {
  it('never has more containers than instances + surge (or canaries)', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        simulateRollout(s, (t) => {
          const starts = t.plan.steps.filter((x) => x.kind === 'start').length;
          expect(t.instances.length + starts).toBeLessThanOrEqual(ceiling(s));
        });
      }),
    );
  });

  it('never retires below instances - maxUnavailable of what is in rotation', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { unavailable } = resolveBudget(s.strategy.maxSurge, s.strategy.maxUnavailable, s.instances);
        simulateRollout(s, (t) => {
          const before = inRotation(t);
          const retired = new Set(t.plan.steps.flatMap((x) => (x.kind === 'retire' ? [x.instance] : [])));
          const after = before.filter(
            (i) => !retired.has(i.instance) && i.running && i.failedAt === undefined,
          );
          const healthyBefore = before.filter((i) => i.running && i.failedAt === undefined).length;
          expect(after.length).toBeGreaterThanOrEqual(Math.min(healthyBefore, s.instances - unavailable));
        });
      }),
    );
  });

  it('starts nothing while a new instance has failed, and pulls it from rotation at once', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        simulateRollout(s, (t) => {
          if (t.plan.counts.newFailed === 0) return;
          expect(t.plan.steps.some((x) => x.kind === 'start')).toBe(false);
          const failedInRotation = t.instances.filter(
            (i) => i.lb === LbMembership.Ready && !i.running && !i.busy,
          );
          const discarded = new Set(t.plan.steps.flatMap((x) => (x.kind === 'discard' ? [x.instance] : [])));
          for (const i of failedInRotation) expect(discarded.has(i.instance)).toBe(true);
        });
      }),
    );
  });

  it('always ends: complete, or rolled back to the old revision', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const result = simulateRollout(s, () => {});
        expect(result.ended).toBe('complete');
      }),
    );
  });

  it('the same input always gives the same plan', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        simulateRollout(s, (t) => expect(planRollout(t.input)).toEqual(t.plan));
      }),
      { numRuns: 30 },
    );
  });

  it('a rollout where every instance comes up healthy completes without a rollback', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const result = simulateRollout({ ...s, fates: [] }, (t) => {
          expect(t.plan.phase).not.toBe(PlanPhase.Failed);
        });
        expect(result).toMatchObject({ ended: 'complete', rolledBack: false });
      }),
    );
  });
});
