import type { AppRecord, ConfigChange } from '../etcd/index.ts';
import { configChangedEvent, type RolloutEvent } from '../rollout/index.ts';

/** Tells one recorded config change from another: a queued change recorded again when rolled out differs in time and outcome. */
const identity = (c: ConfigChange) => `${c.at}\0${c.revision}\0${c.outcome}\0${c.deploymentId ?? ''}`;

/**
 * The `config:changed` events the leader emitted while it wrote `next` over `previous`
 * (undefined: the record is new to the reader): one per entry of `configChanges` that `previous`
 * did not hold, oldest first, as they happened. Pure.
 */
export function appRecordEvents(previous: AppRecord | undefined, next: AppRecord): RolloutEvent[] {
  const seen = new Set((previous?.configChanges ?? []).map(identity));
  return (next.configChanges ?? [])
    .filter((c) => !seen.has(identity(c)))
    .reverse()
    .map((c) => ({ type: 'config:changed', payload: configChangedEvent(next.app, c) }));
}
