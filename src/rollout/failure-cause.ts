import type { DeploymentError, DeploymentRecord } from '../etcd/state-records.ts';

/** Keys named in a failure message; the record's trigger holds them all. */
const KEYS_NAMED = 5;

/**
 * The failure a deployment records. A rollout set off by a change in etcd names the changed
 * keys, so a person reading "rolled back" learns which put to undo; a rollback's own failure
 * is about the rollback and is left as it is.
 */
export function failureCause(record: DeploymentRecord, failure: DeploymentError): DeploymentError {
  const keys = record.trigger?.keys ?? [];
  if (keys.length === 0 || record.state === 'rolling_back') return failure;
  const named = keys.slice(0, KEYS_NAMED).join(', ');
  const more = keys.length > KEYS_NAMED ? ` and ${keys.length - KEYS_NAMED} more` : '';
  return {
    ...failure,
    message: `config change of ${named}${more} made the new instances fail: ${failure.message}`,
  };
}
