export { ContainerDeaths, type ContainerEvent } from './container-deaths.ts';
export {
  BACKOFF_CAP_MS,
  BACKOFF_FACTOR,
  BACKOFF_INITIAL_MS,
  BACKOFF_RESET_MS,
  backoffDelayMs,
  backoffHolds,
  type CrashBackoff,
  nextBackoff,
} from './crash-backoff.ts';
export {
  type AppObservation,
  type Culprit,
  planReconcile,
  type ReconcileAction,
  type ReconcileContainer,
  type ReconcileInput,
} from './plan-reconcile.ts';
export { type HealingState, Reconciler, type ReconcilerDeps } from './reconciler.ts';
