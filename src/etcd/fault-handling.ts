import {
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleWhen,
  isBrokenCircuitError,
  retry,
  TimeoutStrategy,
  timeout,
  wrap,
} from 'cockatiel';
import { isRecoverableError } from 'etcd3';

export type EtcdFaultHandlingOptions = {
  /**
   * How long a call keeps retrying after its first try, in ms (default 15 s); read at each
   * call, so a client can give its first contact a shorter budget than its later calls.
   */
  retryBudgetMs?: number | (() => number);
  /** First pause before a retry; it doubles up to `maxRetryDelayMs`. Default 200 ms. */
  retryDelayMs?: number;
  /** Default 1 s. */
  maxRetryDelayMs?: number;
  /** How long a member whose circuit opened is skipped before one call tries it again. Default 1 s. */
  reopenAfterMs?: number;
};

export const DEFAULT_RETRY_BUDGET_MS = 15_000;

/**
 * Network trouble and server trouble that a later try on another member can outlive (a
 * member gone, an election under way), and every member's circuit being open at once.
 */
export function isRetriedEtcdError(err: unknown): boolean {
  return (err instanceof Error && isRecoverableError(err)) || isBrokenCircuitError(err);
}

/**
 * etcd3's policies, tuned for a cluster losing a member. Its defaults (three retries at once,
 * and a member skipped for 5 s after three failures in a row) turned a 1–2 s election into
 * about 5 s of failed calls: the proposals a follower had sent to the dead leader time out
 * on healthy members too, all three circuits open, and every call fails at once until they
 * close. Here a member is tried again after 1 s, and a call waits out an election with
 * backoff (200 ms doubling to 1 s).
 *
 * The retries are bounded by time, not by count: tries that the dead member refuses at once
 * used up a count of six in under 5 s, and on a loaded machine the election outlasted them.
 * Past the budget the last error is thrown, so a caller still hears why.
 */
export function etcdFaultHandling(opts: EtcdFaultHandlingOptions = {}) {
  const reopenAfterMs = opts.reopenAfterMs ?? 1_000;
  const budget = opts.retryBudgetMs ?? DEFAULT_RETRY_BUDGET_MS;
  const retries = retry(handleWhen(isRetriedEtcdError), {
    maxAttempts: Number.POSITIVE_INFINITY,
    backoff: new ExponentialBackoff({
      initialDelay: opts.retryDelayMs ?? 200,
      maxDelay: opts.maxRetryDelayMs ?? 1_000,
    }),
  });
  return {
    host: () =>
      circuitBreaker(handleWhen(isRetriedEtcdError), {
        halfOpenAfter: reopenAfterMs,
        breaker: new ConsecutiveBreaker(3),
      }),
    global: {
      // Cooperative: the budget stops further retries; the try under way ends by its own deadline.
      execute: <T>(fn: () => PromiseLike<T> | T, signal?: AbortSignal): Promise<T> =>
        wrap(
          timeout(typeof budget === 'function' ? budget() : budget, TimeoutStrategy.Cooperative),
          retries,
        ).execute(fn, signal),
    },
  };
}
