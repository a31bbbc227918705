/** Why a rotation did not start; logged, stored in the app's rotation record, never parsed. */
export const RotationSkipReason = {
  /** A scheduled run was missed (no daemon led, or etcd could not be reached) longer ago than the window. */
  MissedBeyondWindow: 'MissedBeyondWindow',
  /** The app had an active deployment; cron runs are dropped, maxAge tries again later. */
  DeploymentInProgress: 'DeploymentInProgress',
  /** The engine refused the rotation for another reason (its message says which). */
  StartFailed: 'StartFailed',
} as const;
export type RotationSkipReason = (typeof RotationSkipReason)[keyof typeof RotationSkipReason];

/** What set a rotation off. */
export const RotationTrigger = { Cron: 'cron', MaxAge: 'maxAge' } as const;
export type RotationTrigger = (typeof RotationTrigger)[keyof typeof RotationTrigger];
