import { createHash } from 'node:crypto';

/**
 * sha256 over the sorted name/value pairs. Secret values are part of the input so a rotated
 * secret changes the fingerprint (and so the instance spec), yet only the digest ever leaves.
 */
export function fingerprintEnv(env: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `sha256:${createHash('sha256').update(JSON.stringify(pairs)).digest('hex')}`;
}
