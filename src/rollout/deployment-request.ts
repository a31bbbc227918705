import type { DeploymentKind, DeploymentTrigger, Release, StrategySnapshot } from '../etcd/index.ts';

/** What one deployment may set differently from the app's declared strategy. */
export type StrategyOverrides = Partial<
  Pick<
    StrategySnapshot,
    | 'maxSurge'
    | 'maxUnavailable'
    | 'minHealthyTime'
    | 'healthyDeadline'
    | 'progressDeadline'
    | 'drainTimeout'
    | 'onFailure'
    | 'autoPromoteAfter'
  >
>;

/** What a caller asks the engine for; the API's deploy, scale and rollback requests map onto it. */
export type DeploymentRequest = {
  kind: DeploymentKind;
  /** deploy: the version to run (semver, `latest`, digest); default: the declared one. */
  version?: string;
  /** deploy: a repository the app's `allowedImages` lists, instead of its `image`. */
  repository?: string;
  /** scale: the new count; default: the declared one. */
  instances?: number;
  /** deploy: canaries for this deployment, instead of the declared `strategy.canary`. */
  canary?: number;
  /** deploy: this deployment's strategy fields instead of the declared ones. */
  strategy?: StrategyOverrides;
  /** A client's key for this request: a retry carrying it finds the deployment it started. */
  idempotencyKey?: string;
  /** For people and logs: who or what asked. */
  cause?: string;
  /** config: the change in etcd that set it off (keys and revision), kept on the record. */
  trigger?: DeploymentTrigger;
  /** rotate: replace only instances created before this instant (epoch ms); default: the deployment's start. */
  replaceCreatedBefore?: number;
  /** A release already resolved (the declaration's); skips resolving `version`. */
  release?: Release;
};
