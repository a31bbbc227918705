import { HealthPhase, type HealthPolicy, type ProbeResult, watchHealth } from '../health/index.ts';
import type { Clock } from './ports.ts';

/** What glint's own probe has seen of one instance. Times are epoch ms. */
export type TrackedHealth = {
  watchedSince: number;
  /** First time the probe reached `healthyThreshold`. */
  healthyAt?: number | undefined;
  /** When it turned unhealthy after having been healthy. */
  failedAt?: number | undefined;
  /** The probe's reason at `failedAt`; later probes (a recovery's "status 200") don't change it. */
  failedBecause?: string | undefined;
  lastReason?: string | undefined;
};

export type WatchRequest = {
  key: string;
  probe: (signal: AbortSignal) => Promise<ProbeResult>;
  policy: HealthPolicy;
  intervalMs: number;
  /** Until the first success, probe this often (see `watchHealth`). */
  startupIntervalMs?: number;
  /** When the container started; the grace period counts from here. */
  startedAt: number;
};

/**
 * Probes every watched instance on its own timer and remembers what it saw, so the planner
 * reads health as data. A change of phase calls `onChange`, which wakes the rollout loop.
 */
export class HealthTracker {
  readonly #watches = new Map<string, { abort: AbortController; health: TrackedHealth }>();

  constructor(
    private readonly clock: Clock,
    private readonly onChange: () => void = () => {},
  ) {}

  watch(req: WatchRequest): void {
    if (this.#watches.has(req.key)) return;
    const abort = new AbortController();
    const health: TrackedHealth = { watchedSince: this.clock.now() };
    this.#watches.set(req.key, { abort, health });
    void watchHealth({
      probe: req.probe,
      policy: req.policy,
      intervalMs: req.intervalMs,
      ...(req.startupIntervalMs ? { startupIntervalMs: req.startupIntervalMs } : {}),
      startedAt: req.startedAt,
      now: () => this.clock.now(),
      signal: abort.signal,
      onResult: (state) => {
        health.lastReason = state.lastReason;
      },
      onChange: (state) => {
        if (state.phase === HealthPhase.Healthy) health.healthyAt ??= state.changedAt;
        if (state.phase === HealthPhase.Unhealthy && health.healthyAt !== undefined && !health.failedAt) {
          health.failedAt = state.changedAt;
          health.failedBecause = state.lastReason;
        }
        this.onChange();
      },
    }).catch(() => {
      // A probe that throws is a bug in the probe, not a verdict on the instance: watch again.
      this.#watches.delete(req.key);
    });
  }

  get(key: string): TrackedHealth | undefined {
    return this.#watches.get(key)?.health;
  }

  isWatched(key: string): boolean {
    return this.#watches.has(key);
  }

  unwatch(key: string): void {
    this.#watches.get(key)?.abort.abort();
    this.#watches.delete(key);
  }

  /** Stops watching everything not in `keep` (instances that are gone). */
  retain(keep: ReadonlySet<string>): void {
    for (const key of this.#watches.keys()) if (!keep.has(key)) this.unwatch(key);
  }

  close(): void {
    for (const key of [...this.#watches.keys()]) this.unwatch(key);
  }
}
