import { describe, expect, it } from 'vitest';
import { deploymentRecordEvents } from '../../../src/api/deployment-record-events.ts';
import type { DeploymentRecord, DeploymentStep } from '../../../src/etcd/index.ts';

const AT = '2026-01-01T00:00:00.000Z';

function step(
  seq: number,
  state: DeploymentStep['state'],
  extra: Partial<DeploymentStep> = {},
): DeploymentStep {
  return {
    seq,
    kind: 'start',
    state,
    instance: `i${seq}`,
    node: 'local',
    attempt: 1,
    startedAt: AT,
    ...extra,
  };
}

function record(state: DeploymentRecord['state'], steps: DeploymentStep[] = []): DeploymentRecord {
  return {
    id: 'd1',
    app: 'web',
    kind: 'deploy',
    state,
    to: {
      imageRef: 'demo@sha256:1',
      version: '1.1.0',
      digest: 'sha256:1',
      specHash: 's1',
      env: { fingerprint: 'f1', readRevision: 1, values: {}, secretNames: [] },
    },
    instances: 2,
    strategy: {
      maxSurge: 1,
      maxUnavailable: 0,
      minHealthyTime: 0,
      healthyDeadline: 1,
      progressDeadline: 1,
      drainTimeout: 1,
      stopTimeout: 1,
      onFailure: 'rollback',
      canary: 0,
    },
    promoted: false,
    cancelRequested: false,
    lastProgressAt: 0,
    steps,
    progress: {},
    createdAt: AT,
    updatedAt: AT,
  };
}

const stepOf = (s: DeploymentStep) => ({ app: 'web', deploymentId: 'd1', ...s });

type Row = {
  name: string;
  previous: DeploymentRecord | undefined;
  next: DeploymentRecord;
  want: Array<{ type: string; payload: unknown }>;
};

describe('deploymentRecordEvents', () => {
  const failed = step(2, 'failed', { message: 'status 503' });
  const rows: Row[] = [
    {
      name: 'a new record is a started deployment',
      previous: undefined,
      next: record('pending'),
      want: [{ type: 'deployment:started', payload: record('pending') }],
    },
    {
      name: 'a state change is an update',
      previous: record('pending'),
      next: record('running'),
      want: [{ type: 'deployment:updated', payload: record('running') }],
    },
    {
      name: 'a write that changed neither state nor steps tells nothing',
      previous: record('running'),
      next: { ...record('running'), progress: { ready: 1 } },
      want: [],
    },
    {
      name: 'a step that appears started',
      previous: record('running'),
      next: record('running', [step(1, 'running')]),
      want: [{ type: 'step:started', payload: stepOf(step(1, 'running')) }],
    },
    {
      name: 'a step that succeeded finished, with what it recorded',
      previous: record('running', [step(1, 'running')]),
      next: record('running', [step(1, 'succeeded', { containerId: 'c1', address: '10.0.0.1:80' })]),
      want: [
        {
          type: 'step:finished',
          payload: stepOf(step(1, 'succeeded', { containerId: 'c1', address: '10.0.0.1:80' })),
        },
      ],
    },
    {
      name: 'a step that failed carries its message',
      previous: record('running', [step(1, 'succeeded'), step(2, 'running')]),
      next: record('running', [step(1, 'succeeded'), failed]),
      want: [{ type: 'step:failed', payload: { ...stepOf(failed), message: 'status 503' } }],
    },
    {
      name: 'a step abandoned after a restart tells nothing, as on the leader',
      previous: record('running', [step(1, 'running')]),
      next: record('running', [step(1, 'abandoned')]),
      want: [],
    },
    {
      name: 'a terminal state is the end, after the steps of the same write',
      previous: record('running', [step(1, 'running')]),
      next: record('succeeded', [step(1, 'succeeded')]),
      want: [
        { type: 'step:finished', payload: stepOf(step(1, 'succeeded')) },
        { type: 'deployment:finished', payload: record('succeeded', [step(1, 'succeeded')]) },
      ],
    },
    {
      name: 'a rollback that ended is the end',
      previous: record('rolling_back'),
      next: record('rolled_back'),
      want: [{ type: 'deployment:finished', payload: record('rolled_back') }],
    },
    {
      name: 'an ended record written again tells nothing',
      previous: record('failed'),
      next: { ...record('failed'), error: { reason: 'r', message: 'm', logs: ['x'] } },
      want: [],
    },
    {
      name: 'a record first read mid-way: started, its steps, and its end if it ended',
      previous: undefined,
      next: record('cancelled', [step(1, 'succeeded')]),
      want: [
        { type: 'deployment:started', payload: record('cancelled', [step(1, 'succeeded')]) },
        { type: 'step:started', payload: stepOf(step(1, 'succeeded')) },
        { type: 'step:finished', payload: stepOf(step(1, 'succeeded')) },
        { type: 'deployment:finished', payload: record('cancelled', [step(1, 'succeeded')]) },
      ],
    },
  ];
  it.each(rows)('$name', ({ previous, next, want }) => {
    expect(deploymentRecordEvents(previous, next)).toEqual(want);
  });
});
