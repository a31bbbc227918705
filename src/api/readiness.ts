export type ReadinessCheck = { name: string; check: (signal: AbortSignal) => Promise<void> };
export type ReadinessReport = { ready: boolean; checks: Record<string, { ok: boolean; error?: string }> };

/** Runs every dependency check with a deadline; ready only when all pass. */
export async function checkReadiness(checks: ReadinessCheck[], timeoutMs = 2_000): Promise<ReadinessReport> {
  const results = await Promise.all(
    checks.map(async ({ name, check }) => {
      try {
        await check(AbortSignal.timeout(timeoutMs));
        return [name, { ok: true }] as const;
      } catch (err) {
        return [name, { ok: false, error: err instanceof Error ? err.message : String(err) }] as const;
      }
    }),
  );
  return { ready: results.every(([, r]) => r.ok), checks: Object.fromEntries(results) };
}

/** Settles with `work`, or rejects with `message` once `signal` aborts (the work is left to finish). */
export async function untilAborted(
  work: Promise<unknown>,
  signal: AbortSignal,
  message: string,
): Promise<void> {
  if (signal.aborted) throw new Error(message);
  await Promise.race([
    work,
    new Promise((_, reject) =>
      signal.addEventListener('abort', () => reject(new Error(message)), { once: true }),
    ),
  ]);
}
