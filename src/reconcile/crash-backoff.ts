/** How long an app that keeps losing instances waits between heals. Times are epoch ms. */
export type CrashBackoff = {
  /** Heals started for dead or failing instances in this streak. */
  streak: number;
  /** The revision the streak is about: a new version or config starts afresh. */
  specHash: string;
  lastHealAt: number;
  /** No crash-driven heal of the app starts before this. */
  nextAttemptAt: number;
};

export const BACKOFF_INITIAL_MS = 1_000;
export const BACKOFF_FACTOR = 1.15;
export const BACKOFF_CAP_MS = 5 * 60_000;
/** A streak ends when the app went this long without a crash-driven heal (Kubernetes: 10 min). */
export const BACKOFF_RESET_MS = 10 * 60_000;

/** The wait after the `streak`-th heal: 1 s, 1.15 s, 1.32 s … capped at 5 minutes. */
export function backoffDelayMs(streak: number): number {
  return Math.min(BACKOFF_CAP_MS, BACKOFF_INITIAL_MS * BACKOFF_FACTOR ** Math.max(0, streak - 1));
}

/** The backoff after a crash-driven heal starts now. Pure. */
export function nextBackoff(prev: CrashBackoff | undefined, specHash: string, now: number): CrashBackoff {
  const continues = prev && prev.specHash === specHash && now - prev.lastHealAt < BACKOFF_RESET_MS;
  const streak = continues ? prev.streak + 1 : 1;
  return { streak, specHash, lastHealAt: now, nextAttemptAt: now + backoffDelayMs(streak) };
}

/** Whether a crash-driven heal must wait, and until when. Pure. */
export function backoffHolds(b: CrashBackoff | undefined, specHash: string, now: number): number | undefined {
  if (!b || b.specHash !== specHash || now - b.lastHealAt >= BACKOFF_RESET_MS) return undefined;
  return b.nextAttemptAt > now ? b.nextAttemptAt : undefined;
}
