export { appOfKey } from './app-of-key.ts';
export {
  type ConfigChangeReason,
  ConfigChangeReason as ConfigChangeReasons,
  type WatchedApp,
} from './config-mirror.ts';
export { type ConfigChangeEvent, ConfigWatcher, type ConfigWatcherOptions } from './config-watcher.ts';
export { nextDeploymentChange } from './deployment-changes.ts';
export { fingerprintEnv } from './env-fingerprint.ts';
export { type EnvSnapshot, resolveEnvSnapshot } from './env-snapshot.ts';
export { EnvErrorCode, isValidVariableName, MAX_ENV_VALUE_BYTES, mergeEnvLayers } from './env-vars.ts';
export { connectEtcd, EtcdClient, type EtcdConnectOptions, type WatchHandle } from './etcd-client.ts';
export { EtcdErrorCode, translateEtcdError } from './etcd-errors.ts';
export { KeyedSerial } from './keyed-serial.ts';
export { type EtcdKeys, etcdKeys } from './keys.ts';
export { LeaderElection, type LeaderElectionOptions, type LeaderInfo } from './leader-election.ts';
export { type GuardedResult, guardedTxn, type LeaderGuard, NOT_LEADER } from './leader-guard.ts';
export { type ResolveAppEnvOptions, readEnvSnapshot, resolveAppEnv } from './resolve-app-env.ts';
export { describeEnv, type EnvDescription, ResolvedEnv } from './resolved-env.ts';
export type { ServiceEntry } from './service-entry.ts';
export { expandServiceRefs, parseServiceRefs, type ServiceAddress } from './service-refs.ts';
export { EtcdServiceRegistry, type ServiceRegistryOptions } from './service-registry.ts';
export { type CachedSources, StateReadCache } from './state-read-cache.ts';
export {
  type AppRecord,
  AppRecordSchema,
  CONFIG_CHANGES_KEPT,
  type ConfigChange,
  ConfigChangeOutcome,
  type DeployedRelease,
  type DeploymentError,
  DeploymentKind,
  type DeploymentRecord,
  type DeploymentRecordInput,
  DeploymentRecordSchema,
  DeploymentState,
  type DeploymentStep,
  type DeploymentTrigger,
  HISTORY_LIMIT,
  isTerminal,
  type Release,
  type ReleaseEnv,
  StepState,
  type StrategySnapshot,
  type Versioned,
} from './state-records.ts';
export { EtcdStateStore, StateErrorCode, type WriteOptions } from './state-store.ts';
export type { Compare, KeyValue, TxnOp, TxnRequest, TxnResult } from './txn.ts';
