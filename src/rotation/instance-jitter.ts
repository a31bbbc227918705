import { createHash } from 'node:crypto';

/**
 * How much later than `maxAge` an instance is rotated: a share of `jitterMs` drawn from a hash
 * of its id, so every daemon computes the same value and instances started together by one
 * deployment age out at different times instead of all at once.
 */
export function instanceJitter(instance: string, jitterMs: number): number {
  if (jitterMs <= 0) return 0;
  const share = createHash('sha256').update(instance).digest().readUInt32BE(0) / 2 ** 32;
  return Math.floor(share * jitterMs);
}
