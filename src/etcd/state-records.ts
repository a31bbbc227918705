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

/** What an app runs (or ran): enough to redeploy it exactly. */
export const ReleaseSchema = z.object({
  version: z.string(),
  digest: z.string(),
  configRevision: z.number().int().nonnegative(),
  specHash: z.string().optional(),
});
export type Release = z.infer<typeof ReleaseSchema>;

export const DeployedReleaseSchema = ReleaseSchema.extend({
  deploymentId: z.string(),
  deployedAt: z.string(),
});
export type DeployedRelease = z.infer<typeof DeployedReleaseSchema>;

export const HISTORY_LIMIT = 20;

export const AppRecordSchema = z.object({
  app: z.string().min(1),
  current: DeployedReleaseSchema.optional(),
  /** Newest first, at most HISTORY_LIMIT entries; rollbacks pick from here. */
  history: z.array(DeployedReleaseSchema).max(HISTORY_LIMIT),
  updatedAt: z.string(),
});
export type AppRecord = z.infer<typeof AppRecordSchema>;

export const DeploymentStepSchema = z.object({
  kind: z.string(),
  state: z.enum(['running', 'succeeded', 'failed', 'skipped']),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  instance: z.string().optional(),
  message: z.string().optional(),
});
export type DeploymentStep = z.infer<typeof DeploymentStepSchema>;

export const DeploymentErrorSchema = z.object({ reason: z.string(), message: z.string() });

export const DeploymentRecordSchema = z.object({
  id: z.string().min(1),
  app: z.string().min(1),
  kind: z.enum(values(DeploymentKind)),
  state: z.enum(values(DeploymentState)),
  from: ReleaseSchema.optional(),
  to: ReleaseSchema,
  steps: z.array(DeploymentStepSchema),
  /** Counters owned by the rollout engine (desired, started, healthy, retired...). */
  progress: z.record(z.string(), z.number()),
  error: DeploymentErrorSchema.optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().optional(),
});
export type DeploymentRecord = z.infer<typeof DeploymentRecordSchema>;

/** A record with the etcd mod revision it was read at, for compare-and-swap writes. */
export type Versioned<T> = { record: T; modRevision: number };

/** The app record after a deployment succeeded: new current release, history capped. */
export function recordDeployedRelease(
  app: AppRecord | undefined,
  name: string,
  release: DeployedRelease,
  at: string,
): AppRecord {
  const history = [release, ...(app?.history ?? [])].slice(0, HISTORY_LIMIT);
  return { app: name, current: release, history, updatedAt: at };
}
