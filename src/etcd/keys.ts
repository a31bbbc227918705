/**
 * The etcd key layout (DESIGN.md). Everything glint writes lives under one prefix so several
 * installations can share an etcd and `etcdctl get --prefix /glint` shows all of it.
 */
export const SHARED_CONFIG = '_shared';

export type EtcdKeys = {
  readonly prefix: string;
  configPrefix(app: string): string;
  configRoot(): string;
  secretsPrefix(app: string): string;
  secretsRoot(): string;
  servicesPrefix(app: string): string;
  servicesRoot(): string;
  service(app: string, instance: string): string;
  appRecord(app: string): string;
  appsRoot(): string;
  /** Deployments live under their app, so one app's history is one range read. */
  deployment(app: string, id: string): string;
  deploymentsPrefix(app: string): string;
  /** Holds the id of the app's active deployment; its existence is the per-app lock. */
  activeDeployment(app: string): string;
  activeRoot(): string;
  /** The app's last cron slot and rotation, compare-and-swapped so one slot runs once. */
  rotation(app: string): string;
  leader(): string;
};

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Rejects names that would escape their folder or collide with a sibling prefix. */
export function assertKeySegment(kind: string, value: string): string {
  if (!SEGMENT.test(value)) {
    throw new TypeError(
      `${kind} "${value}" can't be used in an etcd key: use letters, digits, '_', '-' or '.' (not starting with '-' or '.')`,
    );
  }
  return value;
}

export function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/\/+$/, '');
  if (!trimmed.startsWith('/')) return `/${trimmed}`;
  return trimmed;
}

export function etcdKeys(rawPrefix = '/glint'): EtcdKeys {
  const prefix = normalizePrefix(rawPrefix);
  const seg = assertKeySegment;
  return {
    prefix,
    configRoot: () => `${prefix}/config/`,
    configPrefix: (app) => `${prefix}/config/${seg('app', app)}/`,
    secretsRoot: () => `${prefix}/secrets/`,
    secretsPrefix: (app) => `${prefix}/secrets/${seg('app', app)}/`,
    servicesRoot: () => `${prefix}/services/`,
    servicesPrefix: (app) => `${prefix}/services/${seg('app', app)}/`,
    service: (app, instance) => `${prefix}/services/${seg('app', app)}/${seg('instance', instance)}`,
    appsRoot: () => `${prefix}/state/apps/`,
    appRecord: (app) => `${prefix}/state/apps/${seg('app', app)}`,
    deploymentsPrefix: (app) => `${prefix}/state/deployments/${seg('app', app)}/`,
    deployment: (app, id) => `${prefix}/state/deployments/${seg('app', app)}/${seg('deployment id', id)}`,
    activeDeployment: (app) => `${prefix}/state/active/${seg('app', app)}`,
    activeRoot: () => `${prefix}/state/active/`,
    rotation: (app) => `${prefix}/state/rotations/${seg('app', app)}`,
    leader: () => `${prefix}/state/leader`,
  };
}

/** The part of `key` after `root`, split on '/'; undefined when the key is elsewhere. */
export function keySegments(root: string, key: string): string[] | undefined {
  if (!key.startsWith(root)) return undefined;
  return key.slice(root.length).split('/');
}

/** The variable name a config or secret key stands for: its last segment. */
export function variableNameOf(key: string): string {
  const parts = key.split('/');
  return parts[parts.length - 1] ?? '';
}
