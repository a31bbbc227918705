export { type ClassifiedInstance, classifyInstances } from './classify-instances.ts';
export { allowedEvents, DeploymentEvent, nextDeploymentState } from './deployment-state.ts';
export { planRollout } from './plan-rollout.ts';
export * from './plan-types.ts';
export { type ResolvedBudget, resolveBudget } from './resolve-budget.ts';
