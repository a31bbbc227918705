import { DeploymentState } from '../etcd/state-records.ts';

/** What can happen to a deployment; the engine and the API speak in these. */
export const DeploymentEvent = {
  Start: 'start',
  Pause: 'pause',
  Resume: 'resume',
  Cancel: 'cancel',
  Complete: 'complete',
  /** A step or the plan failed; `onFailure` says whether to roll back or pause. */
  FailRollback: 'fail-rollback',
  FailPause: 'fail-pause',
  /** The rollback itself could not finish. */
  Fail: 'fail',
} as const;
export type DeploymentEvent = (typeof DeploymentEvent)[keyof typeof DeploymentEvent];

type Transition = { from: readonly DeploymentState[]; to: DeploymentState };
const S = DeploymentState;

/**
 * pending → running ⇄ paused → succeeded | failed | rolling_back → rolled_back | cancelled.
 * A cancel rolls back; the rollback ends as `cancelled`, a failure's rollback as `rolled_back`
 * (the engine tells them apart by the record's `cancelRequested`).
 */
const TRANSITIONS: Record<DeploymentEvent, readonly Transition[]> = {
  start: [{ from: [S.Pending], to: S.Running }],
  pause: [{ from: [S.Running], to: S.Paused }],
  resume: [{ from: [S.Paused], to: S.Running }],
  cancel: [
    { from: [S.Pending], to: S.Cancelled },
    { from: [S.Running, S.Paused], to: S.RollingBack },
  ],
  complete: [
    { from: [S.Running], to: S.Succeeded },
    { from: [S.RollingBack], to: S.RolledBack },
  ],
  'fail-rollback': [
    { from: [S.Running, S.Paused], to: S.RollingBack },
    { from: [S.RollingBack], to: S.Failed },
  ],
  'fail-pause': [
    { from: [S.Running], to: S.Paused },
    { from: [S.RollingBack], to: S.Failed },
  ],
  fail: [{ from: [S.Pending, S.Running, S.Paused, S.RollingBack], to: S.Failed }],
};

/** The state after `event`, or undefined when the event does not apply in `state`. */
export function nextDeploymentState(
  state: DeploymentState,
  event: DeploymentEvent,
): DeploymentState | undefined {
  return TRANSITIONS[event].find((t) => t.from.includes(state))?.to;
}

/** Events a person (the API) may send in each state, for error messages and the UI. */
export function allowedEvents(state: DeploymentState): DeploymentEvent[] {
  return (Object.keys(TRANSITIONS) as DeploymentEvent[]).filter((e) => nextDeploymentState(state, e));
}
