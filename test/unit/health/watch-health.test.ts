import { describe, expect, it } from 'vitest';
import { type ProbeResult, waitUntilHealthy, watchHealth } from '../../../src/health/index.ts';

const policy = { healthyThreshold: 2, unhealthyThreshold: 2, gracePeriod: 0 };
const scripted = (results: boolean[]) => {
  let i = 0;
  return async (): Promise<ProbeResult> => {
    const ok = results[Math.min(i++, results.length - 1)] ?? false;
    return { ok, reason: ok ? 'status 200' : 'status 503' };
  };
};

describe('watchHealth', () => {
  it('probes until aborted and reports each phase change once', async () => {
    const controller = new AbortController();
    const changes: string[] = [];
    const final = await watchHealth({
      probe: scripted([false, true, true, true, false, false]),
      policy,
      intervalMs: 1,
      signal: controller.signal,
      onChange: (s) => changes.push(s.phase),
      onResult: (s) => {
        if (s.checks === 6) controller.abort();
      },
    });
    expect(changes).toEqual(['healthy', 'unhealthy']);
    expect(final.phase).toBe('unhealthy');
  });
});

describe('waitUntilHealthy', () => {
  it('resolves once the instance turns healthy', async () => {
    const state = await waitUntilHealthy({
      probe: scripted([false, true, true]),
      policy,
      intervalMs: 1,
      deadlineMs: 5_000,
    });
    expect(state).toMatchObject({ phase: 'healthy', checks: 3 });
  });

  it('rejects with the last reason when the instance fails past its threshold', async () => {
    await expect(
      waitUntilHealthy({ probe: scripted([false]), policy, intervalMs: 1, deadlineMs: 5_000 }),
    ).rejects.toMatchObject({ code: 'Unhealthy', message: expect.stringContaining('status 503') });
  });

  it('rejects at the deadline while still starting', async () => {
    await expect(
      waitUntilHealthy({
        probe: scripted([false]),
        policy: { ...policy, gracePeriod: 60_000 },
        intervalMs: 5,
        deadlineMs: 50,
      }),
    ).rejects.toMatchObject({
      code: 'HealthDeadlineExceeded',
      message: expect.stringContaining('last: status 503'),
    });
  });
});
