/**
 * What `glint` exits with, so a CI job can tell "the deployment failed" from "glint could not
 * be asked". Documented in the README; never renumbered.
 */
export const ExitCode = {
  /** Done; for `deploy --wait` and `wait`: the deployment succeeded. */
  Ok: 0,
  /** The deployment ended without succeeding: failed, rolled back or cancelled. */
  DeploymentFailed: 1,
  /** The command line was wrong (an unknown option, a missing argument). */
  Usage: 2,
  /** The API refused the request (4xx): unknown app, bad version, no permission, a deployment already active. */
  Refused: 3,
  /** The API could not be reached or failed (5xx, not the leader, timeout). */
  Unreachable: 4,
  /** `--wait` ran out of time while the deployment still ran; it goes on. */
  StillRunning: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
