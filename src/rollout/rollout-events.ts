import { EventEmitter } from 'node:events';
import type { DeploymentRecord, DeploymentStep } from '../etcd/index.ts';

type StepEvent = { app: string; deploymentId: string } & Pick<DeploymentStep, 'kind' | 'instance' | 'node'> &
  Partial<DeploymentStep>;

/** Namespaced, typed events of the rollout engine; they feed logs, the API's stream and tests. */
export type RolloutEventMap = {
  'deployment:started': [DeploymentRecord];
  /** The record changed state (running, paused, rolling_back...) or its status changed. */
  'deployment:updated': [DeploymentRecord];
  'deployment:finished': [DeploymentRecord];
  'step:started': [StepEvent];
  'step:finished': [StepEvent];
  'step:failed': [StepEvent & { message: string }];
  /** An instance died or failed its health check between deployments (the reconciler heals it). */
  'instance:failed': [{ app: string; instance?: string; why: string; logTail?: string[] }];
  /** A crash-looping app's next heal waits. */
  'instance:backoff': [{ app: string; why: string; until: string; streak: number }];
  /** A cron or maxAge rotation started or was skipped (with why). */
  'rotation:started': [{ app: string } & Record<string, unknown>];
  'rotation:skipped': [{ app: string } & Record<string, unknown>];
};

export class RolloutEvents extends EventEmitter<RolloutEventMap> {}
