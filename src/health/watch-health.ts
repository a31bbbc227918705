import { GlintError } from '../errors/index.ts';
import { sleep } from '../time/index.ts';
import { HealthErrorCode } from './error-codes.ts';
import type { ProbeResult } from './health-check.ts';
import {
  HealthPhase,
  type HealthPolicy,
  type HealthState,
  initialHealthState,
  nextHealthState,
} from './health-state.ts';

export type WatchHealthOptions = {
  probe: (signal: AbortSignal) => Promise<ProbeResult>;
  policy: HealthPolicy;
  intervalMs: number;
  /**
   * Until the first success, probe this often instead (when shorter than `intervalMs`): a new
   * instance is seen answering soon after it does, not up to one interval later. Only
   * successes and failures at least `intervalMs` apart count, so thresholds mean what the
   * declaration says.
   */
  startupIntervalMs?: number;
  /** When the container started (default: now); the grace period counts from here. */
  startedAt?: number;
  now?: () => number;
  signal: AbortSignal;
  /** Every result, with the state it led to. */
  onResult?: (state: HealthState, result: ProbeResult) => void;
  /** Only when the phase changes. */
  onChange?: (state: HealthState, previous: HealthState) => void;
};

/** Probes every `intervalMs` until the signal aborts; resolves with the last state. */
export async function watchHealth(opts: WatchHealthOptions): Promise<HealthState> {
  const now = opts.now ?? Date.now;
  let state = initialHealthState(opts.startedAt ?? now());
  let everOk = false;
  let countedAt = Number.NEGATIVE_INFINITY;
  while (!opts.signal.aborted) {
    const began = now();
    const result = await opts.probe(opts.signal);
    if (opts.signal.aborted) break;
    everOk ||= result.ok;
    if (result.ok || began - countedAt >= opts.intervalMs) {
      countedAt = began;
      const next = nextHealthState(state, result, now(), opts.policy);
      opts.onResult?.(next, result);
      if (next.phase !== state.phase) opts.onChange?.(next, state);
      state = next;
    }
    const interval = everOk ? opts.intervalMs : Math.min(opts.intervalMs, opts.startupIntervalMs ?? Infinity);
    await sleep(Math.max(0, interval - (now() - began)), opts.signal);
  }
  return state;
}

export type WaitHealthyOptions = Omit<WatchHealthOptions, 'signal' | 'onChange'> & {
  /** Give up after this long, ms (the strategy's healthyDeadline). */
  deadlineMs: number;
  signal?: AbortSignal;
};

/**
 * Resolves when the instance turns healthy; rejects with `Unhealthy` when it fails past its
 * threshold and `HealthDeadlineExceeded` at the deadline, each naming the last probe's reason.
 */
export async function waitUntilHealthy(opts: WaitHealthyOptions): Promise<HealthState> {
  const stop = new AbortController();
  const deadline = AbortSignal.timeout(opts.deadlineMs);
  const signal = AbortSignal.any([stop.signal, deadline, ...(opts.signal ? [opts.signal] : [])]);
  let settled: HealthState | undefined;
  const last = await watchHealth({
    ...opts,
    signal,
    onChange: (state) => {
      if (state.phase !== HealthPhase.Starting) {
        settled = state;
        stop.abort();
      }
    },
  });
  if (opts.signal?.aborted) throw opts.signal.reason;
  if (settled?.phase === HealthPhase.Healthy) return settled;
  if (settled?.phase === HealthPhase.Unhealthy) {
    throw new GlintError(
      HealthErrorCode.Unhealthy,
      `instance failed its health check ${settled.consecutiveFail} times in a row: ${settled.lastReason}`,
      {
        details: { lastReason: settled.lastReason, checks: settled.checks },
      },
    );
  }
  throw new GlintError(
    HealthErrorCode.HealthDeadlineExceeded,
    `instance was not healthy within ${opts.deadlineMs}ms (${last.checks} checks, last: ${last.lastReason ?? 'no result yet'}); check the app's logs or raise healthyDeadline`,
    { details: { lastReason: last.lastReason, checks: last.checks } },
  );
}
