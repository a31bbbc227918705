import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  constraintMismatch,
  type PlacementNode,
  parseConstraint,
  placeInstance,
  placeInstances,
} from '../../../src/placement/index.ts';

const ZONES = ['eu-1', 'eu-2', 'us-1'];
const DISKS = ['ssd', 'hdd'];

/** Up to six engines with random labels, health, capacity and load; names are unique. */
const nodesArb: fc.Arbitrary<PlacementNode[]> = fc
  .array(
    fc.record({
      zone: fc.option(fc.constantFrom(...ZONES), { nil: undefined }),
      disk: fc.option(fc.constantFrom(...DISKS), { nil: undefined }),
      capacity: fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }),
      up: fc.boolean(),
      containers: fc.integer({ min: 0, max: 12 }),
      appInstances: fc.integer({ min: 0, max: 4 }),
    }),
    { maxLength: 6 },
  )
  .map((rows) =>
    rows.map((r, i) => ({
      name: `node-${i}`,
      labels: {
        ...(r.zone ? { zone: r.zone } : {}),
        ...(r.disk ? { disk: r.disk } : {}),
      },
      capacity: r.capacity,
      up: r.up,
      containers: Math.max(r.containers, r.appInstances),
      appInstances: r.appInstances,
    })),
  );

const constraintArb = fc.oneof(
  fc.tuple(fc.constant('zone'), fc.constantFrom('=', '!='), fc.constantFrom(...ZONES)),
  fc.tuple(fc.constant('disk'), fc.constantFrom('=', '!='), fc.constantFrom(...DISKS)),
  fc.tuple(fc.constant('name'), fc.constantFrom('=', '!='), fc.constantFrom('node-0', 'node-1')),
);
const ruleArb = fc.record({
  constraints: fc.array(
    constraintArb.map(([k, op, v]) => `${k}${op}${v}`),
    { maxLength: 2 },
  ),
  spread: fc.option(fc.constantFrom('zone', 'disk'), { nil: undefined }),
});
const preferArb = fc.option(fc.constantFrom('node-0', 'node-1', 'node-2', 'node-9'), { nil: undefined });

fc.configureGlobal({ numRuns: Number(process.env.FC_RUNS ?? 300) });

describe('placeInstance, over random engines and rules', { timeout: 120_000 }, () => {
  it('chooses an engine that is up, under capacity and meets every constraint, or explains why none is', () => {
    fc.assert(
      fc.property(nodesArb, ruleArb, preferArb, (nodes, rule, prefer) => {
        const got = placeInstance(nodes, rule, prefer);
        const fits = (node: PlacementNode) =>
          node.up &&
          (node.capacity === undefined || node.containers < node.capacity) &&
          rule.constraints.every((text) => constraintMismatch(node, parseConstraint(text)!) === undefined);
        if ('node' in got) {
          expect(fits(nodes.find((x) => x.name === got.node)!)).toBe(true);
        } else {
          expect(nodes.some(fits)).toBe(false);
          for (const node of nodes) expect(got.error).toContain(node.name);
        }
      }),
    );
  });

  it('gives the same answer for the engines in any order', () => {
    fc.assert(
      fc.property(
        nodesArb.chain((nodes) =>
          fc.tuple(fc.constant(nodes), fc.shuffledSubarray(nodes, { minLength: nodes.length })),
        ),
        ruleArb,
        preferArb,
        ([nodes, shuffled], rule, prefer) => {
          const a = placeInstance(nodes, rule, prefer);
          const b = placeInstance(shuffled, rule, prefer);
          if ('node' in a) expect(b).toEqual(a);
          else expect(b).toHaveProperty('error');
        },
      ),
    );
  });

  it('places nothing on a down engine and fills none past capacity, however many are placed', () => {
    fc.assert(
      fc.property(nodesArb, ruleArb, fc.integer({ min: 1, max: 30 }), (nodes, rule, count) => {
        const got = placeInstances(nodes, rule, count);
        const placed = 'nodes' in got ? got.nodes : got.placed;
        for (const node of nodes) {
          const added = placed.filter((name) => name === node.name).length;
          if (!node.up) expect(added).toBe(0);
          if (node.capacity !== undefined && added > 0)
            expect(node.containers + added).toBeLessThanOrEqual(node.capacity);
        }
      }),
    );
  });

  it('spreads n instances over k equal engines so that their counts differ by at most one', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 40 }),
        fc.option(fc.integer({ min: 5, max: 10 }), { nil: undefined }),
        fc.array(preferArb, { maxLength: 40 }),
        (k, wanted, capacity, prefer) => {
          const n = capacity === undefined ? wanted : Math.min(wanted, k * capacity);
          const nodes = Array.from({ length: k }, (_, i) => ({
            name: `node-${i}`,
            labels: {},
            capacity,
            up: true,
            containers: 0,
            appInstances: 0,
          }));
          const got = placeInstances(nodes, { constraints: [] }, n, prefer);
          if (!('nodes' in got)) throw new Error(got.error);
          const counts = nodes.map((node) => got.nodes.filter((name) => name === node.name).length);
          expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
        },
      ),
    );
  });
});
