import { expect, it } from 'vitest';
import type { ProbeResult } from '../../../src/health/index.ts';
import { HealthTracker } from '../../../src/rollout/health-tracker.ts';
import { waitFor } from '../../support/wait-for.ts';

it('keeps the reason an instance failed with after later probes pass again', async () => {
  // healthy, then three timeouts (unhealthy at the third), then passing again from then on
  const script: ProbeResult[] = [
    { ok: true, reason: 'status 200' },
    { ok: false, reason: 'timed out after 1000ms' },
    { ok: false, reason: 'timed out after 1000ms' },
    { ok: false, reason: 'timed out after 1000ms' },
  ];
  let calls = 0;
  const probe = async (): Promise<ProbeResult> => script[calls++] ?? { ok: true, reason: 'status 200' };
  // A clock a whole interval further on at every reading: each failure counts (failures
  // closer together than the interval don't), and no probe waits for a real timer.
  let at = 0;
  const tracker = new HealthTracker({ now: () => (at += 1_000) });
  tracker.watch({
    key: 'a1',
    probe,
    policy: { healthyThreshold: 1, unhealthyThreshold: 3, gracePeriod: 0 },
    intervalMs: 1_000,
    startedAt: 0,
  });
  try {
    await waitFor(async () => (calls > script.length + 2 ? true : undefined), {
      timeoutMs: 10_000,
      intervalMs: 5,
      what: 'probes after the recovery',
    });
    const health = tracker.get('a1');
    expect(health?.failedAt).toBeDefined();
    expect(health?.failedBecause).toBe('timed out after 1000ms');
    expect(health?.lastReason).toBe('status 200');
  } finally {
    tracker.unwatch('a1');
  }
});
