/**
 * The narrow interfaces the rollout engine acts through. The engine owns them; adapters in
 * docker/, lb/ and etcd/ fit them, and unit tests use in-memory fakes. No vendor type crosses.
 * Every call that touches an engine names the node, so nothing assumes there is one engine.
 */
import type { InstanceSpec } from '../docker/index.ts';
import type { DeploymentRecord, Versioned } from '../etcd/index.ts';
import type { HealthCheck, ProbeResult } from '../health/index.ts';
import type { PlacementNode } from '../placement/index.ts';

export type Call = { signal?: AbortSignal };

/** A container of an app as observed on one node. Times are epoch ms. */
export type RuntimeInstance = {
  app: string;
  instance: string;
  node: string;
  containerId: string;
  specHash: string;
  version: string;
  createdAt: number;
  startedAt?: number | undefined;
  running: boolean;
  /** The env it was started with: fingerprint (secrets as a digest only) and etcd revision read at. */
  envFingerprint?: string | undefined;
  configRevision?: number | undefined;
  /** Why it is not running: "exited with code 1", "killed: out of memory". */
  exit?: string | undefined;
  host?: string | undefined;
  port?: number | undefined;
};

export type Launched = { containerId: string; host: string; port: number };

export type ContainerRuntime = {
  /** The app's glint containers on every node, running or not. */
  list(app: string, call?: Call): Promise<RuntimeInstance[]>;
  /** Pulls the image when missing, creates and starts the container, reads its published port. */
  launch(node: string, spec: InstanceSpec, call?: Call): Promise<Launched>;
  /** SIGTERM, SIGKILL after `timeoutMs`, then remove. Gone already is done. */
  stopAndRemove(node: string, containerId: string, timeoutMs: number, call?: Call): Promise<void>;
  /** The container's last log lines, for failure reasons; [] when there are none. */
  logTail(node: string, containerId: string, lines: number): Promise<string[]>;
  /** Runs the app's declared probe once against an instance. */
  probe(node: string, check: HealthCheck, target: ProbeTarget, call?: Call): Promise<ProbeResult>;
  /** Every engine with what placement weighs: its state, labels, capacity and counts. */
  placementNodes(app: string, call?: Call): Promise<PlacementNode[]>;
};

export type ProbeTarget = { containerId: string; host: string; port: number };

/** One HAProxy server of an app's backend, as the load balancer reports it. */
export type BackendServer = {
  name: string;
  state: 'ready' | 'drain' | 'maint';
  /** HAProxy's own check passed (L7OK, or L4OK for a TCP check). */
  checkPassed: boolean;
  checkStatus: string;
  sessions: number;
};

export type LoadBalancer = {
  servers(app: string, call?: Call): Promise<BackendServer[]>;
  /** Adds the server held in `drain` with its health check on; present already is done. */
  stage(app: string, server: { name: string; host: string; port: number }): Promise<void>;
  /** Puts a staged server in rotation. */
  promote(app: string, name: string): Promise<void>;
  /** Drain, then wait for 0 sessions or `timeoutMs`; absent is done. */
  drain(app: string, name: string, timeoutMs: number, call?: Call): Promise<{ drained: boolean }>;
  /** `maint` and `del server`, then wait until no HAProxy worker may still send to it. */
  remove(app: string, name: string, call?: Call): Promise<void>;
};

export type RegisteredInstance = {
  app: string;
  instance: string;
  host: string;
  port: number;
  version: string;
  digest: string;
  startedAt: string;
};

export type ServiceRegistry = {
  register(entry: RegisteredInstance): Promise<void>;
  deregister(app: string, instance: string): Promise<void>;
};

export type DeploymentStore = {
  beginDeployment(record: DeploymentRecord): Promise<Versioned<DeploymentRecord>>;
  updateDeployment(record: DeploymentRecord, opts: { expectedModRevision: number }): Promise<number>;
  finishDeployment(
    record: DeploymentRecord,
    opts: { expectedModRevision: number },
  ): Promise<Versioned<DeploymentRecord>>;
  getDeployment(app: string, id: string): Promise<Versioned<DeploymentRecord> | undefined>;
  activeDeployment(app: string): Promise<string | undefined>;
  listDeployments(app: string, opts?: { limit?: number }): Promise<DeploymentRecord[]>;
};

export type Clock = { now(): number };
