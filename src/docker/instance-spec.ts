import type { HealthCheck } from '../health/health-check.ts';
import type { ResolvedImage } from './resolve-image.ts';

/** Everything a container of one instance is made from. Pure data; its hash is `glint.spec`. */
export type InstanceSpec = {
  app: string;
  /** Short id unique within the app, e.g. `a1b2c3`; the container is `glint-<app>-<instance>`. */
  instance: string;
  image: ResolvedImage;
  env: Readonly<Record<string, string>>;
  /** The port the app listens on inside the container. */
  containerPort: number;
  /** The node's host IP the port is published on (an ephemeral host port is chosen). */
  hostIp: string;
  /**
   * How HAProxy and glint reach the instance: `host` (the default) publishes the port on
   * `hostIp`; `container` publishes nothing and the instance is reached at its own IP on the
   * engine's bridge network. Placement, like `hostIp`: not part of the hash.
   */
  addressMode?: AddressMode;
  /**
   * `host`: the container shares the engine host's network stack (no namespace of its own, no
   * bridge, no NAT), listens on `hostPort`, which it is told as `PORT`, and is reached at
   * `hostIp:hostPort` whatever the address mode. Absent: its own namespace on the default bridge.
   */
  network?: 'host';
  /** The host port a `network: 'host'` instance listens on; assigned at launch, placement. */
  hostPort?: number;
  /**
   * The address the node's containers reach HAProxy at; the container resolves `glint-lb` to
   * it, which `{{service:x}}` references use.
   */
  serviceAddress: string;
  resources: { memoryBytes?: number; nanoCpus?: number };
  health: HealthCheck;
  /** Extra labels (not glint.*), e.g. team or cost centre. */
  labels: Readonly<Record<string, string>>;
  /** Between SIGTERM and SIGKILL on stop, ms. */
  stopTimeoutMs: number;
  /** The app's declared exceptions to the baseline (all capabilities dropped, no new privileges). */
  security?: { user?: string; readOnlyRootFilesystem?: boolean; capAdd?: readonly string[] };
  /** The deployment that created the container; not part of the hash. */
  deploymentId?: string;
  /** Where env came from; informational, not part of the hash (env already is). */
  config?: { fingerprint: string; revision: number | string };
};

/** See InstanceSpec.addressMode; the engine endpoint's `addressMode` sets it. */
export type AddressMode = 'host' | 'container';

export const GLINT_LABELS = {
  managed: 'glint.managed',
  app: 'glint.app',
  instance: 'glint.instance',
  version: 'glint.version',
  digest: 'glint.digest',
  spec: 'glint.spec',
  deployment: 'glint.deployment',
  revision: 'glint.revision',
  configRevision: 'glint.config-revision',
  /** The env's fingerprint (secrets included as a digest only): which config an instance runs. */
  envFingerprint: 'glint.env-fingerprint',
  /**
   * The port the instance listens on, on containers that publish none to read it from: the app
   * port on those reached at their own IP, the assigned host port on those in the host's network.
   */
  port: 'glint.port',
} as const;

export function containerName(app: string, instance: string): string {
  return `glint-${app}-${instance}`;
}
