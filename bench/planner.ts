/**
 * Time of one planRollout call for large apps: 10,000 instances mid-rollout (half old, some
 * starting, staged, failed and retiring), median and p99 over repeated calls.
 *
 *   npx tsx bench/planner.ts [--instances 10000] [--runs 200]
 */
import { performance } from 'node:perf_hooks';
import { LbMembership, type ObservedInstance, type PlanInput, planRollout } from '../src/rollout/index.ts';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const instances = arg('instances', 10_000);
const runs = arg('runs', 200);
const now = 1_000_000_000;

function observed(n: number): ObservedInstance[] {
  return Array.from({ length: n + Math.ceil(n / 4) }, (_, i) => {
    const isNew = i % 2 === 0;
    const kind = i % 10;
    return {
      instance: `i${i}`,
      node: `node-${i % 7}`,
      specHash: isNew ? 'new' : 'old',
      createdAt: now - 1_000_000 + i,
      watchedSince: now - 5_000,
      running: kind !== 9,
      healthyAt: kind < 6 ? now - 10_000 : undefined,
      lb: kind < 5 ? LbMembership.Ready : kind === 5 ? LbMembership.Staged : LbMembership.Absent,
      retiring: kind === 8 && !isNew,
      busy: false,
    };
  });
}

const input: PlanInput = {
  desired: { specHash: 'new', instances },
  observed: observed(instances),
  strategy: {
    maxSurge: '25%',
    maxUnavailable: '10%',
    minHealthyTime: 5_000,
    healthyDeadline: 60_000,
    progressDeadline: 600_000,
    onFailure: 'pause',
    canary: 0,
  },
  progress: { paused: true, promoted: true, startedAt: now - 60_000, lastProgressAt: now - 1_000 },
  now,
};
// A paused plan still classifies everything; an unpaused one with no failed instance plans steps.
const variants: PlanInput[] = [
  {
    ...input,
    progress: { ...input.progress, paused: false },
    observed: input.observed.map((o) => ({ ...o, running: true })),
  },
  input,
];
for (const v of variants) planRollout(v); // warm up
const times: number[] = [];
let steps = 0;
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  const plan = planRollout(variants[0]!);
  times.push(performance.now() - t0);
  steps = plan.steps.length;
}
times.sort((a, b) => a - b);
const at = (p: number) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))]!.toFixed(2);
console.log(
  `planRollout, ${input.observed.length} observed instances for ${instances} desired (${steps} steps planned), ${runs} runs:`,
);
console.log(
  `  median ${at(50)} ms, p99 ${at(99)} ms, max ${times.at(-1)!.toFixed(2)} ms (target: under 50 ms)`,
);
console.log(`  command: npx tsx bench/planner.ts --instances ${instances} --runs ${runs}`);
