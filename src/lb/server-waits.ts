import { isTransient } from '../errors/index.ts';
import type { StatRow } from './parse-show-stat.ts';
import type { RuntimeApi } from './runtime-api.ts';

export type WaitOptions = { timeoutMs: number; pollIntervalMs?: number; signal?: AbortSignal };
export type WaitOutcome = { met: boolean; last: StatRow | undefined; waitedMs: number };

/**
 * Polls the server's `show stat` row until `done` holds or the time is up. A missing row
 * counts as not done; a socket hiccup (a reload hands the socket to a new worker) is retried
 * until the deadline and thrown only if it persists. HAProxy refusing a command is thrown.
 */
export async function pollServer(
  runtime: RuntimeApi,
  backend: string,
  name: string,
  done: (row: StatRow) => boolean,
  opts: WaitOptions,
): Promise<WaitOutcome> {
  const started = Date.now();
  let last: StatRow | undefined;
  for (;;) {
    opts.signal?.throwIfAborted();
    let failure: unknown;
    try {
      last = await runtime.serverStat(backend, name);
      if (last && done(last)) return { met: true, last, waitedMs: Date.now() - started };
    } catch (err) {
      if (!isTransient(err)) throw err;
      failure = err;
    }
    if (Date.now() - started >= opts.timeoutMs) {
      if (failure) throw failure;
      return { met: false, last, waitedMs: Date.now() - started };
    }
    await new Promise((r) => setTimeout(r, opts.pollIntervalMs ?? 100));
  }
}

/** HAProxy's own check passed and the server is up (still staged in drain, or ready). */
export const hasPassedCheck = (row: StatRow): boolean =>
  row.checkStatus === 'L7OK' && /^(UP|DRAIN)\b/.test(row.status);

export const hasNoSessions = (row: StatRow): boolean => row.scur === 0 && row.qcur === 0;
