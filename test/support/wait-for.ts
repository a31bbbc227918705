/**
 * Polls `probe` until it returns a value other than undefined, or throws after `timeoutMs`.
 * Errors thrown by the probe count as "not yet" (a server that is not listening yet), and the
 * last one is reported on timeout.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
  const reason = lastError instanceof Error ? `: last error ${lastError.message}` : '';
  throw new Error(
    `timed out after ${opts.timeoutMs ?? 15_000}ms waiting for ${opts.what ?? 'condition'}${reason}`,
  );
}
