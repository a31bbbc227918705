import { describe, expect, it } from 'vitest';
import {
  changeLines,
  type DeploymentAnswer,
  outcome,
  progressBar,
} from '../../../src/cli/deployment-progress.ts';
import { ExitCode } from '../../../src/cli/exit-codes.ts';

const base: DeploymentAnswer = {
  id: 'd1',
  app: 'web',
  kind: 'deploy',
  state: 'running',
  from: { version: '1.0.0' },
  to: { version: '1.1.0' },
  instances: 3,
  progress: { desired: 3, ready: 1 },
  status: { phase: 'Progressing', reason: 'Surge', message: 'starting 1 of 3' },
  steps: [{ seq: 1, kind: 'start', state: 'running', instance: 'a1', node: 'local' }],
  error: null,
};
const at = (patch: Partial<DeploymentAnswer>): DeploymentAnswer => ({ ...base, ...patch });

describe('changeLines', () => {
  it.each([
    {
      name: 'first answer: the state, every step and the status',
      before: undefined,
      after: base,
      lines: ['d1 running', '  start a1 on local running', '  starting 1 of 3'],
    },
    {
      name: 'nothing changed: nothing printed',
      before: base,
      after: base,
      lines: [],
    },
    {
      name: 'a step moved on and a new one began',
      before: base,
      after: at({
        steps: [
          { seq: 1, kind: 'start', state: 'succeeded', instance: 'a1', node: 'local' },
          { seq: 2, kind: 'promote', state: 'running', instance: 'a1', node: 'local' },
        ],
      }),
      lines: ['  start a1 on local succeeded', '  promote a1 on local running'],
    },
    {
      name: 'ended: the state change, the failed step with its message, no status',
      before: base,
      after: at({
        state: 'rolling_back',
        steps: [
          { seq: 1, kind: 'start', state: 'failed', instance: 'a1', node: 'local', message: 'status 503' },
        ],
        status: { phase: 'Failed', reason: 'Unhealthy', message: 'instance a1 failed' },
      }),
      lines: ['d1 running → rolling_back', '  start a1 on local failed: status 503', '  instance a1 failed'],
    },
  ])('$name', ({ before, after, lines }) => {
    expect(changeLines(before, after)).toEqual(lines);
  });
});

describe('progressBar', () => {
  it.each([
    { progress: { desired: 3, ready: 0 }, bar: '[--------------------] 0/3 ready' },
    { progress: { desired: 3, ready: 1 }, bar: '[#######-------------] 1/3 ready' },
    { progress: { desired: 3, ready: 3 }, bar: '[####################] 3/3 ready' },
    // More ready than desired (a scale down under way) is shown full, never past the end.
    { progress: { desired: 2, ready: 5 }, bar: '[####################] 2/2 ready' },
  ])('$progress.ready of $progress.desired', ({ progress, bar }) => {
    expect(progressBar(at({ progress }))).toBe(`${bar} · running · start a1 running`);
  });
});

describe('outcome', () => {
  it.each([
    {
      state: 'succeeded',
      exitCode: ExitCode.Ok,
      first: 'deploy 1.0.0 → 1.1.0 of web (d1), 3 instances: succeeded',
    },
    {
      state: 'rolled_back',
      exitCode: ExitCode.DeploymentFailed,
      first: 'deploy 1.0.0 → 1.1.0 of web (d1), 3 instances: rolled back',
    },
    {
      state: 'failed',
      exitCode: ExitCode.DeploymentFailed,
      first: 'deploy 1.0.0 → 1.1.0 of web (d1), 3 instances: failed',
    },
    {
      state: 'cancelled',
      exitCode: ExitCode.DeploymentFailed,
      first: 'deploy 1.0.0 → 1.1.0 of web (d1), 3 instances: cancelled',
    },
    {
      state: 'running',
      exitCode: ExitCode.StillRunning,
      first: 'd1 still running (starting 1 of 3); it goes on: glint wait d1',
    },
  ])('$state exits $exitCode', ({ state, exitCode, first }) => {
    const o = outcome(at({ state }));
    expect(o.exitCode).toBe(exitCode);
    expect(o.lines[0]).toBe(first);
  });

  it('names the reason and the last log lines of a rollback', () => {
    const o = outcome(
      at({
        state: 'rolled_back',
        error: { reason: 'InstanceCrashed', message: 'a1 exited with code 1', logs: ['boom'] },
      }),
    );
    expect(o.lines.slice(1)).toEqual(['  reason: InstanceCrashed: a1 exited with code 1', '  | boom']);
  });
});
