import type { EtcdKeys } from './keys.ts';

/**
 * The app a key belongs to (its record, deployments, lock, rotation, registered instances,
 * config or secrets); undefined for keys of no app (the leader key) or outside glint's prefix.
 * Pure.
 */
export function appOfKey(keys: EtcdKeys, key: string): string | undefined {
  const rest = key.startsWith(`${keys.prefix}/`) ? key.slice(keys.prefix.length + 1) : undefined;
  if (rest === undefined) return undefined;
  const [area, second, third] = rest.split('/');
  if (area === 'services' || area === 'config' || area === 'secrets') return second || undefined;
  if (area !== 'state') return undefined;
  if (second === 'apps' || second === 'deployments' || second === 'active' || second === 'rotations')
    return third || undefined;
  return undefined;
}
