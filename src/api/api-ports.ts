/**
 * What the API acts through. The daemon fits etcd, Docker and the rollout engine to these; unit
 * tests of the routes use the engine over in-memory ports. No vendor type crosses.
 */
import type { AppConfig } from '../config/index.ts';
import type { AppRecord, DeploymentRecord, ServiceEntry, Versioned } from '../etcd/index.ts';
import type { RolloutEngine, RuntimeInstance } from '../rollout/index.ts';
import type { NextRotation } from './api-views.ts';

/** The engine's programmatic surface: only the leader's acts, any daemon's reads. */
export type DeploymentControl = Pick<
  RolloutEngine,
  'startDeployment' | 'pause' | 'resume' | 'cancel' | 'promote' | 'get' | 'events'
>;

/** Records as stored in etcd: the same on every daemon. */
export type StateReads = {
  getApp(app: string): Promise<Versioned<AppRecord> | undefined>;
  getDeployment(app: string, id: string): Promise<Versioned<DeploymentRecord> | undefined>;
  activeDeployment(app: string): Promise<string | undefined>;
  listDeployments(app: string, opts?: { limit?: number }): Promise<DeploymentRecord[]>;
};

/** Resolves once the stored deployment moved past `modRevision`, or the signal aborts. */
export type DeploymentChanges = {
  next(app: string, id: string, modRevision: number, signal: AbortSignal): Promise<void>;
};

export type ApiState = {
  apps: () => Readonly<Record<string, AppConfig>>;
  control: DeploymentControl;
  state: StateReads;
  changes: DeploymentChanges;
  /** An app's containers on every node. */
  instances: (app: string) => Promise<RuntimeInstance[]>;
  /** An app's ready instances, as registered in etcd. */
  ready: (app: string) => Promise<ServiceEntry[]>;
  nextRotation: NextRotation;
  /**
   * What the reconciler last did about the app (healing, backed off after crashes, with the
   * reason and last log lines); the leader's view, `null` elsewhere.
   */
  healing?: (app: string) => object | null;
  /** Every declared engine: its state, last contact, labels, and glint's instances there. */
  nodes?: () => Promise<NodeView[]>;
  clock: { now(): number };
  /**
   * Changes whenever a stored record may have changed (the read cache's generation); while it
   * stays the same, an answer built from the records may be sent again. Undefined: build each.
   */
  recordsVersion?: () => number | undefined;
};

/** One Docker engine as `GET /v1/nodes` shows it. Times are ISO 8601. */
export type NodeView = {
  name: string;
  /** `up`; `unreachable` (not answering, nothing new placed there); `down` (its instances replaced). */
  state: 'up' | 'unreachable' | 'down';
  since: string;
  lastContact: string | null;
  lastError?: string;
  hostIp: string;
  /** `host`: instances at ports published on `hostIp`; `container`: at their container IPs. */
  addressMode: 'host' | 'container';
  labels: Record<string, string>;
  capacity: number | null;
  /** glint's running instances there, in all and per app; null while the engine is not listed. */
  instances: number | null;
  apps: Record<string, number>;
};
