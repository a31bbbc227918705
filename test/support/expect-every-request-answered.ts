import { expect } from 'vitest';
import { formatLoad, type LoadSummary } from './http-load.ts';

/**
 * Any error, reset or non-2xx answer fails a rollout test; and each kind of request (GET, POST,
 * keep-alive, fresh connection) must actually have been sent, or the test proves less than it says.
 */
export function expectEveryRequestAnswered(summary: LoadSummary, opts: { atLeast: number; label?: string }) {
  expect(summary.requests).toBeGreaterThanOrEqual(opts.atLeast);
  expect(summary.byKind.get).toBeGreaterThan(0);
  expect(summary.byKind.post).toBeGreaterThan(0);
  expect(summary.byKind.keepAlive).toBeGreaterThan(0);
  expect(summary.byKind.fresh).toBeGreaterThan(0);
  expect(summary.ok2xx, formatLoad(opts.label ?? 'load', summary)).toBe(summary.requests);
}
