import type { GlintConfig } from './config-schema.ts';
import { readSecret } from './read-secret.ts';

export type RegistryAccess = {
  /** Per registry host; only registries with both a user and a password appear. */
  credentials: Record<string, { username: string; password: string }>;
  /** Registries declared `insecure: true`, reached over plain HTTP. */
  plainHttpHosts: string[];
};

/** Reads each registry's password from its declared source. Values stay in memory only. */
export async function readRegistryAccess(
  config: GlintConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RegistryAccess> {
  const credentials: RegistryAccess['credentials'] = {};
  const plainHttpHosts: string[] = [];
  for (const [host, registry] of Object.entries(config.registries)) {
    if (registry.insecure) plainHttpHosts.push(host);
    if (registry.username && registry.password) {
      credentials[host] = { username: registry.username, password: await readSecret(registry.password, env) };
    }
  }
  return { credentials, plainHttpHosts };
}
