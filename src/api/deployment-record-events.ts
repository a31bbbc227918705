import { type DeploymentRecord, type DeploymentStep, isTerminal } from '../etcd/index.ts';
import { type RolloutEvent, stepEvent } from '../rollout/index.ts';

/**
 * The events the leader emitted while it wrote `next` over `previous` (undefined: the record is
 * new to the reader), derived from the two versions of the stored record: how a daemon that does
 * not lead streams deployments and steps. The payloads are the leader's own (the record, the
 * recorded step), so a client cannot tell which daemon it listens to. A state's change is an
 * update, a terminal state the end; steps come before the deployment's end, as the leader's
 * steps finish before it. Pure.
 */
export function deploymentRecordEvents(
  previous: DeploymentRecord | undefined,
  next: DeploymentRecord,
): RolloutEvent[] {
  const events: RolloutEvent[] = [];
  if (!previous) events.push({ type: 'deployment:started', payload: next });
  const before = new Map((previous?.steps ?? []).map((s) => [s.seq, s]));
  for (const step of next.steps) events.push(...stepEvents(next, before.get(step.seq), step));
  const ended = isTerminal(next.state) && (!previous || !isTerminal(previous.state));
  if (ended) events.push({ type: 'deployment:finished', payload: next });
  else if (previous && previous.state !== next.state)
    events.push({ type: 'deployment:updated', payload: next });
  return events;
}

/** A step seen for the first time started; one whose state moved to an end finished or failed. */
function stepEvents(
  record: DeploymentRecord,
  before: DeploymentStep | undefined,
  step: DeploymentStep,
): RolloutEvent[] {
  const events: RolloutEvent[] = [];
  const payload = stepEvent(record.app, record.id, step);
  if (!before) events.push({ type: 'step:started', payload });
  if (before?.state === step.state) return events;
  // An abandoned step was interrupted by a restart: the leader closes it without an event.
  if (step.state === 'succeeded') events.push({ type: 'step:finished', payload });
  if (step.state === 'failed')
    events.push({ type: 'step:failed', payload: { ...payload, message: step.message ?? 'the step failed' } });
  return events;
}
