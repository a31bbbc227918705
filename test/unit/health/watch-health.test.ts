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

describe('watchHealth before the first success (startupIntervalMs)', () => {
  // A clock that each probe moves on by `step` ms, so which results count does not depend on
  // how fast this machine runs the loop.
  const clockedProbe = (results: boolean[], step: number) => {
    let t = 0;
    let calls = 0;
    const next = scripted(results);
    return {
      now: () => t,
      calls: () => calls,
      probe: async () => {
        calls++;
        t += step;
        return next();
      },
    };
  };

  it('probes faster until the first success, counting failures only an interval apart', async () => {
    const controller = new AbortController();
    const changes: string[] = [];
    const p = clockedProbe([...Array<boolean>(30).fill(false), true, true], 10);
    const final = await watchHealth({
      probe: p.probe,
      now: p.now,
      policy,
      intervalMs: 1_000,
      startupIntervalMs: 20,
      signal: controller.signal,
      onChange: (s) => changes.push(s.phase),
      onResult: (s) => {
        if (s.phase === 'healthy') controller.abort();
      },
    });
    // 30 failures within 300 ms of clock: one counted, so unhealthyThreshold 2 is never reached.
    expect(changes).toEqual(['healthy']);
    expect(p.calls()).toBe(32);
    expect(final.checks).toBe(3);
  });

  it('still fails an instance whose failures are an interval apart', async () => {
    const controller = new AbortController();
    const p = clockedProbe([false], 600);
    const final = await watchHealth({
      probe: p.probe,
      now: p.now,
      policy,
      intervalMs: 1_000,
      startupIntervalMs: 20,
      signal: controller.signal,
      onChange: (s) => {
        if (s.phase === 'unhealthy') controller.abort();
      },
    });
    // Failures at 600, 1200 and 1800 ms: the first and third are 1 s apart and count.
    expect(final).toMatchObject({ phase: 'unhealthy', checks: 2 });
    expect(p.calls()).toBe(3);
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
