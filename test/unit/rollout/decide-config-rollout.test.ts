import { describe, expect, it } from 'vitest';
import { type ConfigRolloutInput, decideConfigRollout } from '../../../src/rollout/decide-config-rollout.ts';

type Row = { name: string; input: ConfigRolloutInput; want: string };

const fp = (fingerprint: string) => ({ fingerprint });
const last = (fingerprint: string, state = 'succeeded') => ({ deploymentId: 'web-1', fingerprint, state });

// biome-ignore format: one row, two lines, as a table reads best
const rows: Row[] = [
  { name: 'a change of a rotating app with nothing active starts a config deployment',
    input: { policy: 'rotate', wanted: fp('B'), active: false, running: 'A' }, want: 'started' },
  { name: "an app that says 'none' only records the change",
    input: { policy: 'none', wanted: fp('B'), active: false, running: 'A' }, want: 'recorded' },
  { name: "an app that says 'none' records even while a deployment is active",
    input: { policy: 'none', wanted: fp('B'), active: true, running: 'A' }, want: 'recorded' },
  { name: 'a change during an active deployment is queued',
    input: { policy: 'rotate', wanted: fp('B'), active: true, running: 'A' }, want: 'queued' },
  { name: 'an env that cannot be resolved fails without deploying',
    input: { policy: 'rotate', wanted: { error: 'bad name' }, active: false, running: 'A' }, want: 'failed' },
  { name: 'a change back to the env the instances run starts nothing',
    input: { policy: 'rotate', wanted: fp('A'), active: false, running: 'A' }, want: 'skipped' },
  { name: 'a queued change the ended deployment already rolled out starts nothing',
    input: { policy: 'rotate', wanted: fp('B'), active: false, running: 'B', lastRolledOut: last('B') }, want: 'skipped' },
  { name: 'a queued change whose env the ended deployment tried and rolled back starts nothing',
    input: { policy: 'rotate', wanted: fp('B'), active: false, running: 'A', lastRolledOut: last('B', 'rolled_back') }, want: 'skipped' },
  { name: 'a queued change that still differs from what the ended deployment rolled out starts one',
    input: { policy: 'rotate', wanted: fp('C'), active: false, running: 'B', lastRolledOut: last('B') }, want: 'started' },
  { name: 'a queued change after a deploy that read the env before it starts one',
    input: { policy: 'rotate', wanted: fp('C'), active: false, running: 'A2', lastRolledOut: last('A2') }, want: 'started' },
  { name: 'an app with no release yet starts one for its first env',
    input: { policy: 'rotate', wanted: fp('B'), active: false }, want: 'started' },
];

describe('decideConfigRollout', () => {
  it.each(rows)('$name', (row) => {
    expect(decideConfigRollout(row.input).outcome).toBe(row.want);
  });

  it('says why a skipped change started nothing, naming the deployment', () => {
    const d = decideConfigRollout({
      policy: 'rotate',
      wanted: fp('B'),
      active: false,
      running: 'A',
      lastRolledOut: last('B', 'rolled_back'),
    });
    expect(d.message).toBe('deployment web-1 (rolled_back) already rolled out this env');
  });
});
