import {
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleWhen,
  isBrokenCircuitError,
  retry,
} from 'cockatiel';
import { isRecoverableError } from 'etcd3';

export type EtcdFaultHandlingOptions = {
  /** Retries of a call after its first try. Default 6. */
  retries?: number;
  /** First pause before a retry; it doubles up to `maxRetryDelayMs`. Default 200 ms. */
  retryDelayMs?: number;
  /** Default 1 s. */
  maxRetryDelayMs?: number;
  /** How long a member whose circuit opened is skipped before one call tries it again. Default 1 s. */
  reopenAfterMs?: number;
};

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
 * backoff (200 ms doubling to 1 s, 6 retries: about 4.4 s of pauses) instead of failing.
 */
export function etcdFaultHandling(opts: EtcdFaultHandlingOptions = {}) {
  const reopenAfterMs = opts.reopenAfterMs ?? 1_000;
  return {
    host: () =>
      circuitBreaker(handleWhen(isRetriedEtcdError), {
        halfOpenAfter: reopenAfterMs,
        breaker: new ConsecutiveBreaker(3),
      }),
    global: retry(handleWhen(isRetriedEtcdError), {
      maxAttempts: opts.retries ?? 6,
      backoff: new ExponentialBackoff({
        initialDelay: opts.retryDelayMs ?? 200,
        maxDelay: opts.maxRetryDelayMs ?? 1_000,
      }),
    }),
  };
}
