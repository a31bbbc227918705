import type { DeploymentKind, Release } from '../etcd/index.ts';

/** What a caller asks the engine for; the API's deploy, scale and rollback requests map onto it. */
export type DeploymentRequest = {
  kind: DeploymentKind;
  /** deploy: the version to run (semver, `latest`, digest); default: the declared one. */
  version?: string;
  /** scale: the new count; default: the declared one. */
  instances?: number;
  /** deploy: canaries for this deployment, instead of the declared `strategy.canary`. */
  canary?: number;
  /** For people and logs: who or what asked. */
  cause?: string;
  /** A release already resolved (the declaration's); skips resolving `version`. */
  release?: Release;
};
