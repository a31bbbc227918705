import type { Release } from '../etcd/index.ts';
import type { RegisteredInstance, RuntimeInstance } from './ports.ts';

/** The service registry's entry for a running instance of `release`, reachable at host:port. */
export function registryEntry(
  app: string,
  c: Pick<RuntimeInstance, 'instance' | 'startedAt' | 'createdAt'> & { host: string; port: number },
  release: Pick<Release, 'version' | 'digest'>,
): RegisteredInstance {
  return {
    app,
    instance: c.instance,
    host: c.host,
    port: c.port,
    version: release.version,
    digest: release.digest,
    startedAt: new Date(c.startedAt ?? c.createdAt).toISOString(),
  };
}
