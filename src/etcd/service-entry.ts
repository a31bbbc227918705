import { z } from 'zod';
import { GlintError } from '../errors/index.ts';

/**
 * The value under `<prefix>/services/<app>/<instance>`: plain JSON so any program can read
 * the registry with `etcdctl get --prefix /glint/services/`.
 */
export const ServiceEntrySchema = z.object({
  app: z.string().min(1),
  instance: z.string().min(1),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  version: z.string(),
  digest: z.string(),
  startedAt: z.string(),
});
export type ServiceEntry = z.infer<typeof ServiceEntrySchema>;

export function encodeServiceEntry(entry: ServiceEntry): string {
  return JSON.stringify(ServiceEntrySchema.parse(entry));
}

/** Parses a registry value; a foreign or corrupt value is an error naming the key. */
export function decodeServiceEntry(key: string, value: string): ServiceEntry {
  try {
    return ServiceEntrySchema.parse(JSON.parse(value));
  } catch (err) {
    throw new GlintError(
      'InvalidServiceEntry',
      `${key} does not hold a glint service entry (JSON with app, instance, host, port, version, digest, startedAt); delete or rewrite it`,
      { cause: err, details: { key } },
    );
  }
}
