import type { DeploymentStep } from '../etcd/index.ts';

/** A step as the event stream carries it: the step as recorded, with its app and deployment. */
export type StepEvent = { app: string; deploymentId: string } & Pick<
  DeploymentStep,
  'kind' | 'instance' | 'node'
> &
  Partial<DeploymentStep>;

/**
 * Built from the step as written to the deployment record, so the leader (which writes it) and
 * a follower (which reads it back from etcd) send one and the same payload. Pure.
 */
export function stepEvent(app: string, deploymentId: string, step: DeploymentStep): StepEvent {
  return { app, deploymentId, ...step };
}
