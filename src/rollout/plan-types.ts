/**
 * The planner's vocabulary: what it is told (desired revision, observed instances, strategy,
 * the deployment's own progress) and what it answers (steps and a status). Pure data.
 */

/** A count or a percentage of the desired instances, as Kubernetes' maxSurge/maxUnavailable. */
export type Budget = number | `${number}%`;

/** Strategy fields the planner reads, durations in milliseconds. */
export type RolloutStrategy = {
  maxSurge: Budget;
  maxUnavailable: Budget;
  minHealthyTime: number;
  healthyDeadline: number;
  progressDeadline: number;
  onFailure: 'rollback' | 'pause';
  canary: number;
  autoPromoteAfter?: number | undefined;
};

/** Where HAProxy has the instance's server, as glint's load-balancer port reports it. */
export const LbMembership = {
  /** Not (or no longer) a server of the backend. */
  Absent: 'absent',
  /** Added and checked by HAProxy, held in `drain`: no new traffic yet. */
  Staged: 'staged',
  /** In rotation. */
  Ready: 'ready',
} as const;
export type LbMembership = (typeof LbMembership)[keyof typeof LbMembership];

/**
 * One instance as observed, raw facts only; the planner derives its phase. Times are epoch ms.
 * `retiring` and `busy` come from the deployment record and the executor, never from names.
 */
export type ObservedInstance = {
  instance: string;
  node: string;
  specHash: string;
  createdAt: number;
  /**
   * When glint began waiting for it to become healthy: the container's start, or the daemon's
   * adoption of it after a restart (a restarted daemon probes again before trusting it).
   */
  watchedSince: number;
  /** The container runs. False once it exited, died or was removed behind glint's back. */
  running: boolean;
  /** When glint's probe reached the healthy threshold and HAProxy's own check said L7OK. */
  healthyAt?: number | undefined;
  /** When the instance failed health after having been healthy (or crashed), with why. */
  failedAt?: number | undefined;
  failure?: string | undefined;
  lb: LbMembership;
  /** A retire step began for it (recorded before the drain), so it is on its way out. */
  retiring: boolean;
  /** A step for it is in flight right now; plan nothing more for it this tick. */
  busy: boolean;
  /**
   * It was there before this deployment began (the deployment did not start it). One of the
   * desired revision that dies is replaced, not blamed on the rollout: a heal or a scale
   * inherits the instances it is asked to keep.
   */
  inherited?: boolean | undefined;
};

/** Phase of an instance as the planner sees it. */
export const InstancePhase = {
  Starting: 'starting',
  Staged: 'staged',
  Ready: 'ready',
  Failed: 'failed',
  Retiring: 'retiring',
} as const;
export type InstancePhase = (typeof InstancePhase)[keyof typeof InstancePhase];

/** What the deployment record tells the planner about itself. */
export type RolloutProgress = {
  /** Paused deployments place nothing and retire nothing. */
  paused: boolean;
  /** Canaries were promoted (by the API or `autoPromoteAfter`). */
  promoted: boolean;
  startedAt: number;
  /** Last time an instance became ready or an old one was gone; starts at `startedAt`. */
  lastProgressAt: number;
};

export type PlanInput = {
  desired: {
    specHash: string;
    instances: number;
    /** A rotation replaces instances of the same revision created before this time. */
    replaceCreatedBefore?: number | undefined;
  };
  observed: readonly ObservedInstance[];
  strategy: RolloutStrategy;
  progress: RolloutProgress;
  now: number;
};

export type Step =
  /** Create, start and stage a new instance of the desired revision. */
  | { kind: 'start' }
  /** Put a staged instance in rotation and register it in the service registry. */
  | { kind: 'promote'; instance: string }
  /** Drain, deregister, take out of HAProxy, stop and remove. */
  | { kind: 'retire'; instance: string; reason: RetireReason }
  /** Take a failed instance out at once (no drain: it is not serving), stop and remove. */
  | { kind: 'discard'; instance: string; reason: string };
export type StepKind = Step['kind'];

export const RetireReason = {
  Replaced: 'replaced',
  NotReadyOld: 'not-ready-old-revision',
  ScaledDown: 'scaled-down',
  /** A retire recorded as begun whose step is not running (the daemon restarted mid-way). */
  Resumed: 'resumed',
} as const;
export type RetireReason = (typeof RetireReason)[keyof typeof RetireReason];

/** Kubernetes-style condition reasons: constants to branch on; messages are for people. */
export const PlanReason = {
  NewRevisionAvailable: 'NewRevisionAvailable',
  Progressing: 'Progressing',
  AwaitingCanaryPromotion: 'AwaitingCanaryPromotion',
  CanaryAutoPromoted: 'CanaryAutoPromoted',
  HealthCheckFailed: 'HealthCheckFailed',
  HealthyDeadlineExceeded: 'HealthyDeadlineExceeded',
  InstanceCrashed: 'InstanceCrashed',
  ProgressDeadlineExceeded: 'ProgressDeadlineExceeded',
  Paused: 'Paused',
} as const;
export type PlanReason = (typeof PlanReason)[keyof typeof PlanReason];

export const PlanPhase = {
  Progressing: 'Progressing',
  /** Waiting on something outside the rollout: a starting instance, a drain, a promotion. */
  Waiting: 'Waiting',
  /** A canary is ready and waits for promotion. */
  AwaitingPromotion: 'AwaitingPromotion',
  /** Canaries may now be promoted; the shell records it and plans again. */
  Promote: 'Promote',
  Paused: 'Paused',
  /** The rollout cannot go on: the shell rolls back or pauses as the strategy says. */
  Failed: 'Failed',
  Complete: 'Complete',
} as const;
export type PlanPhase = (typeof PlanPhase)[keyof typeof PlanPhase];

export type PlanCounts = {
  desired: number;
  /** Containers that exist, whatever their phase. */
  total: number;
  newReady: number;
  newStarting: number;
  newFailed: number;
  oldActive: number;
  retiring: number;
  /** Instances in rotation, old and new. */
  available: number;
};

export type Plan = {
  steps: Step[];
  phase: PlanPhase;
  reason: PlanReason;
  message: string;
  counts: PlanCounts;
  /** When the planner wants to look again even if nothing is observed to change. */
  requeueAt?: number | undefined;
};
