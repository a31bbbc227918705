import { describe, expect, it } from 'vitest';
import { type DriftInput, declarationDrift } from '../../../src/rollout/declaration-drift.ts';

const run = (...specs: string[]) => specs.map((specHash) => ({ specHash }));
const base: DriftInput = {
  instances: 3,
  targetSpec: 'a',
  versionChanged: false,
  current: { specHash: 'a', instances: 3 },
  running: run('a', 'a', 'a'),
};

const rows: { name: string; input: Partial<DriftInput>; want: string | undefined }[] = [
  { name: 'a restart with nothing changed replaces nothing', input: {}, want: undefined },
  { name: 'an app never deployed is deployed', input: { current: undefined, running: [] }, want: 'deploy' },
  {
    name: 'a new declared version is deployed',
    input: { targetSpec: 'b', versionChanged: true },
    want: 'deploy',
  },
  {
    name: 'same version, other env or resources: a config rollout',
    input: { targetSpec: 'b' },
    want: 'config',
  },
  { name: 'a changed count scales', input: { instances: 5 }, want: 'scale' },
  { name: 'a missing instance is healed', input: { running: run('a', 'a') }, want: 'heal' },
  { name: 'a drifted instance is healed', input: { running: run('a', 'a', 'x') }, want: 'heal' },
  { name: 'an extra stray instance is healed', input: { running: run('a', 'a', 'a', 'a') }, want: 'heal' },
];

describe('declarationDrift', () => {
  it.each(rows)('$name', ({ input, want }) => {
    expect(declarationDrift({ ...base, ...input })?.kind).toBe(want);
  });

  it.each([
    { envChanged: true, why: 'the env changed (in etcd or in the declaration)' },
    { envChanged: false, why: 'the declared resources or health changed' },
  ])('a config rollout says whether the env changed ($envChanged)', ({ envChanged, why }) => {
    expect(declarationDrift({ ...base, targetSpec: 'b', envChanged })?.why).toBe(why);
  });
});
