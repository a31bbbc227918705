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
};

export class RolloutEvents extends EventEmitter<RolloutEventMap> {}
