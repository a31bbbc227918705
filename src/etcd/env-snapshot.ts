import type { ServiceFrontends } from '../config/index.ts';
import { fingerprintEnv } from './env-fingerprint.ts';
import { type EnvEntry, MAX_ENV_VALUE_BYTES, mergeEnvLayers, validateEnvEntry } from './env-vars.ts';
import { variableNameOf } from './keys.ts';
import { ResolvedEnv } from './resolved-env.ts';
import { expandServiceRefs, referencedServices, type ServiceAddress } from './service-refs.ts';

/** Everything an app's env depends on: the declaration's part, and etcd's as read at one revision. */
export type EnvSnapshot = {
  app: string;
  staticEnv: Readonly<Record<string, string>>;
  /** Every declared app's frontend port: what `{{service:x}}` expands to. */
  frontends: ServiceFrontends;
  shared: ReadonlyArray<{ key: string; value: string }>;
  config: ReadonlyArray<{ key: string; value: string }>;
  secrets: ReadonlyArray<{ key: string; value: string }>;
  /** Ready instances by service, for `{{service:x.instances}}` and `.first`. */
  services: ReadonlyMap<string, readonly ServiceAddress[]>;
  revision: number;
  maxValueBytes?: number;
};

/** Static env entries, each named by its field path in the declaration. */
export function staticEntries(app: string, env: Readonly<Record<string, string>>): EnvEntry[] {
  return Object.entries(env).map(([name, value]) => ({ source: `apps.${app}.env.${name}`, name, value }));
}

export function kvEntries(kvs: ReadonlyArray<{ key: string; value: string }>): EnvEntry[] {
  return kvs.map((kv) => ({ source: kv.key, name: variableNameOf(kv.key), value: kv.value }));
}

/**
 * Static env, then shared config, then the app's config, then its secrets (later wins);
 * then service references are expanded. Pure: the shell reads the snapshot, this decides.
 */
export function resolveEnvSnapshot(snapshot: EnvSnapshot): ResolvedEnv {
  const secrets = kvEntries(snapshot.secrets);
  const merged = mergeEnvLayers(
    staticEntries(snapshot.app, snapshot.staticEnv),
    kvEntries(snapshot.shared),
    kvEntries(snapshot.config),
    secrets,
  );
  const limit = snapshot.maxValueBytes ?? MAX_ENV_VALUE_BYTES;
  const env: Record<string, string> = {};
  const sources = { frontends: snapshot.frontends, instances: snapshot.services };
  for (const [name, entry] of merged) {
    const value = expandServiceRefs(entry, sources);
    validateEnvEntry({ ...entry, value }, limit);
    env[name] = value;
  }
  // Secrets are the last layer, so every secret name survives the merge.
  const secretNames = secrets.map((s) => s.name).sort();
  return new ResolvedEnv({
    env,
    secretNames,
    fingerprint: fingerprintEnv(env),
    revision: snapshot.revision,
    referencedServices: referencedServices(merged.values()),
  });
}
