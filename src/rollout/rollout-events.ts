import { EventEmitter } from 'node:events';
import type { DeploymentRecord } from '../etcd/index.ts';
import type { ConfigChangedEvent } from './config-changed-event.ts';
import type { StepEvent } from './step-event.ts';

/** Namespaced, typed events of the rollout engine; they feed logs, the API's stream and tests. */
export type RolloutEventMap = {
  'deployment:started': [DeploymentRecord];
  /** The record changed state (running, paused, rolling_back...). */
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
  /** A change of the app's env in etcd, as recorded on its app record: key names, never values. */
  'config:changed': [ConfigChangedEvent];
};

/** One event of the map with its payload, as a value (what a follower derives from etcd). */
export type RolloutEvent = {
  [K in keyof RolloutEventMap]: { type: K; payload: RolloutEventMap[K][0] };
}[keyof RolloutEventMap];

export class RolloutEvents extends EventEmitter<RolloutEventMap> {}
