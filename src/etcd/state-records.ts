import { z } from 'zod';

export const DeploymentKind = {
  Deploy: 'deploy',
  Config: 'config',
  Rotate: 'rotate',
  Rollback: 'rollback',
  Heal: 'heal',
  Scale: 'scale',
} as const;
export type DeploymentKind = (typeof DeploymentKind)[keyof typeof DeploymentKind];

export const DeploymentState = {
  Pending: 'pending',
  Running: 'running',
  Paused: 'paused',
  Succeeded: 'succeeded',
  Failed: 'failed',
  RollingBack: 'rolling_back',
  RolledBack: 'rolled_back',
  Cancelled: 'cancelled',
} as const;
export type DeploymentState = (typeof DeploymentState)[keyof typeof DeploymentState];

const TERMINAL: ReadonlySet<DeploymentState> = new Set(['succeeded', 'failed', 'rolled_back', 'cancelled']);

export function isTerminal(state: DeploymentState): boolean {
  return TERMINAL.has(state);
}

const values = <T extends Record<string, string>>(o: T) => Object.values(o) as [T[keyof T], ...T[keyof T][]];

/**
 * The env a release ran with: plain values in full (they are config, already in etcd), secrets
 * by name only; the fingerprint covers both, so a changed secret shows as a changed release.
 */
export const ReleaseEnvSchema = z.object({
  fingerprint: z.string(),
  /** etcd's revision when the env was read (a global etcd revision, not a config version). */
  readRevision: z.number().int().nonnegative(),
  values: z.record(z.string(), z.string()),
  secretNames: z.array(z.string()),
});
export type ReleaseEnv = z.infer<typeof ReleaseEnvSchema>;

/** What an app runs (or ran): enough to redeploy it exactly. */
export const ReleaseSchema = z.object({
  /** `repository@sha256:...` */
  imageRef: z.string(),
  version: z.string(),
  digest: z.string(),
  specHash: z.string(),
  env: ReleaseEnvSchema,
});
export type Release = z.infer<typeof ReleaseSchema>;

export const DeployedReleaseSchema = ReleaseSchema.extend({
  deploymentId: z.string(),
  deployedAt: z.string(),
});
export type DeployedRelease = z.infer<typeof DeployedReleaseSchema>;

export const HISTORY_LIMIT = 20;
/** Deployment records kept per app; older finished ones are removed. */
export const DEPLOYMENTS_KEPT = 50;

/** What set a deployment off, when it was not a person: a change of the app's env in etcd. */
export const DeploymentTriggerSchema = z.object({
  source: z.literal('etcd'),
  /** The changed keys under the prefix (`config/web/GREETING`), names only, never values. */
  keys: z.array(z.string()),
  /** etcd's revision of the newest change the deployment rolls out. */
  revision: z.number().int().nonnegative(),
  /** config, secret, service, resync: why the env changed, first cause first. */
  reasons: z.array(z.string()),
});
export type DeploymentTrigger = z.infer<typeof DeploymentTriggerSchema>;

export const ConfigChangeOutcome = {
  /** A `config` deployment was started for it. */
  Started: 'started',
  /** Another deployment was active: rolled out after it ends, if still needed. */
  Queued: 'queued',
  /** The app says `onConfigChange: 'none'`: recorded, not rolled out. */
  Recorded: 'recorded',
  /** Nothing to roll out: the instances already run this env, or the last deployment tried it. */
  Skipped: 'skipped',
  /** The env can't be resolved, or the deployment could not start. */
  Failed: 'failed',
} as const;
export type ConfigChangeOutcome = (typeof ConfigChangeOutcome)[keyof typeof ConfigChangeOutcome];

/** One change of the app's env seen by the leader, and what glint did about it. */
export const ConfigChangeSchema = z.object({
  at: z.string(),
  revision: z.number().int().nonnegative(),
  keys: z.array(z.string()),
  fingerprint: z.string().optional(),
  outcome: z.enum(values(ConfigChangeOutcome)),
  deploymentId: z.string().optional(),
  /** For people: why it was skipped, queued behind what, or why it failed. */
  message: z.string().optional(),
});
export type ConfigChange = z.infer<typeof ConfigChangeSchema>;
/** Config changes kept on the app record, newest first. */
export const CONFIG_CHANGES_KEPT = 10;

export const AppRecordSchema = z.object({
  app: z.string().min(1),
  current: DeployedReleaseSchema.optional(),
  /** Newest first, at most HISTORY_LIMIT entries; rollbacks pick from here. */
  history: z.array(DeployedReleaseSchema).max(HISTORY_LIMIT),
  /**
   * The declaration's version and count as last applied. A deploy through the API outlives a
   * daemon restart; only a change of the declaration itself takes the app back to it.
   */
  declared: z.object({ version: z.string(), instances: z.number().int().nonnegative() }).optional(),
  /** The instance count the last successful deployment left (a scale through the API sets it). */
  instances: z.number().int().nonnegative().optional(),
  /** The newest changes of the app's env in etcd and what each did, newest first. */
  configChanges: z.array(ConfigChangeSchema).max(CONFIG_CHANGES_KEPT).optional(),
  updatedAt: z.string(),
});
export type AppRecord = z.infer<typeof AppRecordSchema>;

export const StepState = {
  Running: 'running',
  Succeeded: 'succeeded',
  Failed: 'failed',
  /** Interrupted by a daemon restart and cleaned up instead of finished. */
  Abandoned: 'abandoned',
} as const;
export type StepState = (typeof StepState)[keyof typeof StepState];

/** One step, written before it starts and again when it ends, so a restart knows both. */
export const DeploymentStepSchema = z.object({
  seq: z.number().int().nonnegative(),
  kind: z.enum(['start', 'promote', 'retire', 'discard']),
  state: z.enum(values(StepState)),
  instance: z.string(),
  node: z.string(),
  containerId: z.string().optional(),
  address: z.string().optional(),
  specHash: z.string().optional(),
  attempt: z.number().int().positive(),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  message: z.string().optional(),
});
export type DeploymentStep = z.infer<typeof DeploymentStepSchema>;

export const DeploymentErrorSchema = z.object({
  reason: z.string(),
  message: z.string(),
  /** The last lines the failed container logged, when there was one. */
  logs: z.array(z.string()).optional(),
});
export type DeploymentError = z.infer<typeof DeploymentErrorSchema>;

/** The strategy as it was when the deployment began; durations in ms. */
export const StrategySnapshotSchema = z.object({
  maxSurge: z.union([z.number(), z.string()]),
  maxUnavailable: z.union([z.number(), z.string()]),
  minHealthyTime: z.number(),
  healthyDeadline: z.number(),
  progressDeadline: z.number(),
  drainTimeout: z.number(),
  stopTimeout: z.number(),
  onFailure: z.enum(['rollback', 'pause']),
  canary: z.number().int().nonnegative(),
  autoPromoteAfter: z.number().optional(),
});
export type StrategySnapshot = z.infer<typeof StrategySnapshotSchema>;

/** The planner's last word, Kubernetes' condition shape. */
export const DeploymentStatusSchema = z.object({
  phase: z.string(),
  reason: z.string(),
  message: z.string(),
  lastTransitionAt: z.string(),
  lastUpdateAt: z.string(),
});

export const DeploymentRecordSchema = z.object({
  id: z.string().min(1),
  app: z.string().min(1),
  kind: z.enum(values(DeploymentKind)),
  state: z.enum(values(DeploymentState)),
  /** Why it was started, for people: "deploy 1.1.0 requested by the API". */
  cause: z.string().optional(),
  /** The client's `Idempotency-Key`: a retried request finds this deployment instead of starting another. */
  idempotencyKey: z.string().optional(),
  /** A `config` deployment's cause in etcd: the changed keys and the revision. */
  trigger: DeploymentTriggerSchema.optional(),
  from: ReleaseSchema.optional(),
  to: ReleaseSchema,
  instances: z.number().int().nonnegative(),
  strategy: StrategySnapshotSchema,
  /** A rotation replaces instances of the same revision created before this time (epoch ms). */
  replaceCreatedBefore: z.number().optional(),
  promoted: z.boolean().default(false),
  cancelRequested: z.boolean().default(false),
  /** Epoch ms of the last instance made ready or retired; the progress deadline counts from it. */
  lastProgressAt: z.number(),
  steps: z.array(DeploymentStepSchema),
  status: DeploymentStatusSchema.optional(),
  /** Counters owned by the rollout engine (desired, ready, retired...). */
  progress: z.record(z.string(), z.number()),
  error: DeploymentErrorSchema.optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().optional(),
});
export type DeploymentRecord = z.infer<typeof DeploymentRecordSchema>;
export type DeploymentRecordInput = z.input<typeof DeploymentRecordSchema>;

/** A record with the etcd mod revision it was read at, for compare-and-swap writes. */
export type Versioned<T> = { record: T; modRevision: number };

/** The app record after a deployment succeeded: new current release, history capped. */
export function recordDeployedRelease(
  app: AppRecord | undefined,
  name: string,
  release: DeployedRelease,
  at: string,
  instances?: number,
): AppRecord {
  const history = [release, ...(app?.history ?? [])].slice(0, HISTORY_LIMIT);
  const count = instances ?? app?.instances;
  return {
    app: name,
    current: release,
    history,
    ...(app?.declared ? { declared: app.declared } : {}),
    ...(count === undefined ? {} : { instances: count }),
    ...(app?.configChanges ? { configChanges: app.configChanges } : {}),
    updatedAt: at,
  };
}
