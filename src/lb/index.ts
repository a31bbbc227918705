export { assignServerIds, type UnnumberedModel, type UnnumberedServer } from './assign-server-ids.ts';
export {
  type ConfigValidator,
  type ContainerExec,
  DockerExecValidator,
  LocalBinaryValidator,
  pickConfigValidator,
  type ValidationResult,
} from './config-validator.ts';
export {
  type ConnectedLoadBalancer,
  type ConnectLoadBalancerOptions,
  connectLoadBalancer,
} from './connect-load-balancer.ts';
export { LbErrorCode } from './error-codes.ts';
export {
  HaproxyLoadBalancer,
  type HaproxyLoadBalancerOptions,
  type Instance,
  type RetireOutcome,
  type StructureOutcome,
} from './haproxy-load-balancer.ts';
export {
  DEFAULT_TIMEOUTS,
  type LbApp,
  type LbHealthCheck,
  type LbModel,
  type LbPaths,
  type LbServer,
  type LbTimeouts,
  lbPaths,
  type ServerState,
  ServerStates,
} from './lb-model.ts';
export type { LiveServer } from './live-servers.ts';
export { MasterCli, type ReloadOutcome } from './master-cli.ts';
export type { LbStructure, LbStructureApp, ServerKey } from './model-edits.ts';
export type { ObservedServer } from './parse-servers-state.ts';
export type { ProcInfo } from './parse-show-proc.ts';
export type { StatRow } from './parse-show-stat.ts';
export { renderHaproxyConfig } from './render-haproxy-config.ts';
export { RuntimeApi } from './runtime-api.ts';
export { structureFromConfig } from './structure-from-config.ts';
export { type ModelProblem, validateLbModel } from './validate-lb-model.ts';
