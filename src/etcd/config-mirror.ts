import type { ServiceFrontends } from '../config/index.ts';
import type { EnvSnapshot } from './env-snapshot.ts';
import { kvEntries, staticEntries } from './env-snapshot.ts';
import { type EtcdKeys, keySegments, SHARED_CONFIG } from './keys.ts';
import { groupServices } from './resolve-app-env.ts';
import { servicesWhoseInstancesAreRead } from './service-refs.ts';
import type { KeyValue } from './txn.ts';

/** An app as the config watcher needs to know it. */
export type WatchedApp = {
  name: string;
  staticEnv?: Readonly<Record<string, string>>;
  /** What a change does; the consumer applies it. Default `rotate`; `ignore` means `none`. */
  onConfigChange?: 'rotate' | 'none' | 'ignore';
};

export const ConfigChangeReason = {
  Config: 'config',
  Secret: 'secret',
  Service: 'service',
  Resync: 'resync',
} as const;
export type ConfigChangeReason = (typeof ConfigChangeReason)[keyof typeof ConfigChangeReason];

/** Local copy of config, secrets and services: key → kv. */
export type Mirror = Map<string, KeyValue>;

export function sortedValues(mirror: Mirror, prefix: string): KeyValue[] {
  return [...mirror.values()]
    .filter((kv) => kv.key.startsWith(prefix))
    .sort((a, b) => (a.key < b.key ? -1 : 1));
}

/** The env inputs of `app` as the mirror holds them at `revision`. */
export function snapshotFromMirror(
  keys: EtcdKeys,
  mirror: Mirror,
  app: WatchedApp,
  revision: number,
  frontends: ServiceFrontends,
): EnvSnapshot {
  return {
    app: app.name,
    staticEnv: app.staticEnv ?? {},
    frontends,
    shared: sortedValues(mirror, keys.configPrefix(SHARED_CONFIG)),
    config: sortedValues(mirror, keys.configPrefix(app.name)),
    secrets: sortedValues(mirror, keys.secretsPrefix(app.name)),
    services: groupServices(keys, sortedValues(mirror, keys.servicesRoot())),
    revision,
  };
}

/**
 * Services whose instances the app's env reads (`{{service:x.instances}}`, `.first`): a change of
 * their instances may change the env. `{{service:x}}` is x's frontend, which its instances
 * never change, so it makes no dependency. Malformed references count as none (resolution
 * reports them).
 */
export function servicesReferencedBy(keys: EtcdKeys, mirror: Mirror, app: WatchedApp): Set<string> {
  const s = snapshotFromMirror(keys, mirror, app, 0, new Map());
  const entries = [
    ...staticEntries(app.name, s.staticEnv),
    ...kvEntries(s.shared),
    ...kvEntries(s.config),
    ...kvEntries(s.secrets),
  ];
  const out = new Set<string>();
  for (const entry of entries) {
    try {
      for (const name of servicesWhoseInstancesAreRead([entry])) out.add(name);
    } catch {
      // A malformed reference is reported when the env is resolved, naming the key.
    }
  }
  return out;
}

/** Which apps a change of `key` concerns, and why. */
export function appsAffectedBy(
  keys: EtcdKeys,
  key: string,
  apps: readonly WatchedApp[],
  references: (app: WatchedApp) => Set<string>,
): Array<{ app: string; reason: ConfigChangeReason }> {
  const config = keySegments(keys.configRoot(), key)?.[0];
  if (config === SHARED_CONFIG) return apps.map((a) => ({ app: a.name, reason: ConfigChangeReason.Config }));
  if (config !== undefined) {
    return apps
      .filter((a) => a.name === config)
      .map((a) => ({ app: a.name, reason: ConfigChangeReason.Config }));
  }
  const secret = keySegments(keys.secretsRoot(), key)?.[0];
  if (secret !== undefined) {
    return apps
      .filter((a) => a.name === secret)
      .map((a) => ({ app: a.name, reason: ConfigChangeReason.Secret }));
  }
  const service = keySegments(keys.servicesRoot(), key)?.[0];
  if (service === undefined) return [];
  return apps
    .filter((a) => references(a).has(service))
    .map((a) => ({ app: a.name, reason: ConfigChangeReason.Service }));
}

/** Keys whose presence or revision differs between two mirrors. */
export function diffMirrors(before: Mirror, after: Mirror): string[] {
  const changed = new Set<string>();
  for (const [key, kv] of after) if (before.get(key)?.modRevision !== kv.modRevision) changed.add(key);
  for (const key of before.keys()) if (!after.has(key)) changed.add(key);
  return [...changed].sort();
}

/**
 * The app's env inputs (shared config, its config and secrets, services whose instances it
 * reads) written after `revision`, oldest first: what changed since a release read its env,
 * so a change nobody watched can still be named. Deleted keys left no trace and are not named.
 */
export function inputsChangedSince(
  keys: EtcdKeys,
  mirror: Mirror,
  app: WatchedApp,
  revision: number,
): KeyValue[] {
  const services = servicesReferencedBy(keys, mirror, app);
  const isInput = (key: string) =>
    key.startsWith(keys.configPrefix(SHARED_CONFIG)) ||
    key.startsWith(keys.configPrefix(app.name)) ||
    key.startsWith(keys.secretsPrefix(app.name)) ||
    [...services].some((s) => key.startsWith(keys.servicesPrefix(s)));
  return [...mirror.values()]
    .filter((kv) => kv.modRevision > revision && isInput(kv.key))
    .sort((a, b) => a.modRevision - b.modRevision || (a.key < b.key ? -1 : 1));
}
