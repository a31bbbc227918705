export {
  AppReleases,
  type AppReleasesOptions,
  ReleaseErrorCode,
  type ReleaseSource,
} from './app-releases.ts';
export { type ClassifiedInstance, classifyInstances } from './classify-instances.ts';
export { type ConfigChangedEvent, configChangedEvent } from './config-changed-event.ts';
export { ConfigRollouts, type ConfigRolloutsDeps } from './config-rollouts.ts';
export { type Drift, declarationDrift } from './declaration-drift.ts';
export type { DeploymentRequest, StrategyOverrides } from './deployment-request.ts';
export { allowedEvents, DeploymentEvent, nextDeploymentState } from './deployment-state.ts';
export { type Enforced, enforceDeclaration } from './enforce-declaration.ts';
export { HealthTracker } from './health-tracker.ts';
export { planRollout } from './plan-rollout.ts';
export * from './plan-types.ts';
export type * from './ports.ts';
export { type ResolvedBudget, resolveBudget } from './resolve-budget.ts';
export { type EngineDeps, RolloutEngine, RolloutErrorCode } from './rollout-engine.ts';
export { type RolloutEvent, type RolloutEventMap, RolloutEvents } from './rollout-events.ts';
export { type StepEvent, stepEvent } from './step-event.ts';
