import { describe, expect, it } from 'vitest';
import type { DeploymentState } from '../../../src/etcd/state-records.ts';
import { allowedEvents, type DeploymentEvent, nextDeploymentState } from '../../../src/rollout/index.ts';

const rows: [DeploymentState, DeploymentEvent, DeploymentState | undefined][] = [
  ['pending', 'start', 'running'],
  ['running', 'pause', 'paused'],
  ['paused', 'resume', 'running'],
  ['running', 'complete', 'succeeded'],
  ['running', 'fail-rollback', 'rolling_back'],
  ['paused', 'fail-rollback', 'rolling_back'],
  ['running', 'fail-pause', 'paused'],
  ['rolling_back', 'complete', 'rolled_back'],
  ['rolling_back', 'fail-rollback', 'failed'],
  ['rolling_back', 'fail-pause', 'failed'],
  ['pending', 'cancel', 'cancelled'],
  ['running', 'cancel', 'rolling_back'],
  ['paused', 'cancel', 'rolling_back'],
  ['paused', 'pause', undefined],
  ['running', 'resume', undefined],
  ['rolling_back', 'cancel', undefined],
  ['succeeded', 'cancel', undefined],
  ['failed', 'resume', undefined],
  ['cancelled', 'start', undefined],
];

describe('nextDeploymentState', () => {
  it.each(rows)('%s + %s → %s', (state, event, want) => {
    expect(nextDeploymentState(state, event)).toBe(want);
  });

  it('finished deployments accept no event at all', () => {
    for (const state of ['succeeded', 'failed', 'rolled_back', 'cancelled'] as const)
      expect(allowedEvents(state)).toEqual([]);
  });
});
