import type { ServiceFrontends } from '../config/index.ts';
import { type EnvSnapshot, resolveEnvSnapshot } from './env-snapshot.ts';
import type { EtcdClient } from './etcd-client.ts';
import { type EtcdKeys, keySegments, SHARED_CONFIG } from './keys.ts';
import type { ResolvedEnv } from './resolved-env.ts';
import { decodeServiceEntry } from './service-entry.ts';
import type { ServiceAddress } from './service-refs.ts';
import type { KeyValue } from './txn.ts';

export type ResolveAppEnvOptions = {
  app: string;
  staticEnv?: Readonly<Record<string, string>>;
  /** Every declared app's frontend port, for `{{service:x}}`. */
  frontends: ServiceFrontends;
  maxValueBytes?: number;
};

/**
 * Reads shared config, the app's config and secrets and the service registry in one
 * transaction (one revision), then resolves. Throws GlintError (ServiceReferenceUnresolved,
 * ServiceFrontendUnknown, InvalidVariableName, EnvValueTooLarge...) naming the key; never a value.
 */
export async function resolveAppEnv(client: EtcdClient, opts: ResolveAppEnvOptions): Promise<ResolvedEnv> {
  const snapshot = await readEnvSnapshot(client, opts);
  return resolveEnvSnapshot(snapshot);
}

export async function readEnvSnapshot(client: EtcdClient, opts: ResolveAppEnvOptions): Promise<EnvSnapshot> {
  const k = client.keys;
  const prefixes = [
    k.configPrefix(SHARED_CONFIG),
    k.configPrefix(opts.app),
    k.secretsPrefix(opts.app),
    k.servicesRoot(),
  ];
  const res = await client.txn(
    { compare: [], success: prefixes.map((key) => ({ type: 'get', key, prefix: true })) },
    `reading the env of ${opts.app}`,
  );
  const [shared, config, secrets, services] = res.responses.map((r) => r.kvs ?? []);
  return {
    app: opts.app,
    staticEnv: opts.staticEnv ?? {},
    frontends: opts.frontends,
    shared: shared ?? [],
    config: config ?? [],
    secrets: secrets ?? [],
    services: groupServices(k, services ?? []),
    revision: res.revision,
    ...(opts.maxValueBytes ? { maxValueBytes: opts.maxValueBytes } : {}),
  };
}

/** Registry keys grouped by service name; entries that don't parse are skipped, not fatal. */
export function groupServices(keys: EtcdKeys, kvs: readonly KeyValue[]): Map<string, ServiceAddress[]> {
  const out = new Map<string, ServiceAddress[]>();
  for (const kv of kvs) {
    const parts = keySegments(keys.servicesRoot(), kv.key);
    if (parts?.length !== 2) continue;
    let entry: ReturnType<typeof decodeServiceEntry>;
    try {
      entry = decodeServiceEntry(kv.key, kv.value);
    } catch {
      continue;
    }
    const list = out.get(parts[0] ?? '') ?? [];
    list.push({ instance: parts[1] ?? '', host: entry.host, port: entry.port });
    out.set(parts[0] ?? '', list);
  }
  return out;
}
