import type { ConfigChange } from '../etcd/index.ts';

/**
 * A change of an app's env in etcd and what glint did about it (`outcome`, the deployment it
 * started): the key names as the app record has them, never a value.
 */
export type ConfigChangedEvent = { app: string } & ConfigChange;

/** The event for one entry of the app record's `configChanges`, on the leader and on followers alike. Pure. */
export function configChangedEvent(app: string, change: ConfigChange): ConfigChangedEvent {
  return {
    app,
    at: change.at,
    revision: change.revision,
    keys: [...change.keys],
    ...(change.fingerprint === undefined ? {} : { fingerprint: change.fingerprint }),
    outcome: change.outcome,
    ...(change.deploymentId === undefined ? {} : { deploymentId: change.deploymentId }),
    ...(change.message === undefined ? {} : { message: change.message }),
  };
}
