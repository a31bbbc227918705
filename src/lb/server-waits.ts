import { isTransient } from '../errors/index.ts';
import { sleep } from '../time/index.ts';
import type { StatRow } from './parse-show-stat.ts';
import type { RuntimeApi } from './runtime-api.ts';

export type WaitOptions = {
  timeoutMs: number;
  pollIntervalMs?: number;
  signal?: AbortSignal;
  /** A server HAProxy no longer lists: still waiting for it (`wait`, the default) or done. */
  whenAbsent?: 'wait' | 'done';
};
export type WaitOutcome = { met: boolean; last: StatRow | undefined; waitedMs: number };

/**
 * Polls the server's `show stat` row until `done` holds or the time is up. A missing row counts
 * as not done unless `whenAbsent` says otherwise; a socket hiccup (a reload hands the socket
 * to a new worker) is retried until the deadline and thrown only if it persists. HAProxy
 * refusing a command, or `signal` aborting, is thrown.
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
      const row = await runtime.serverStat(backend, name, opts.signal);
      if (!row && opts.whenAbsent === 'done') return { met: true, last, waitedMs: Date.now() - started };
      last = row ?? last;
      if (row && done(row)) return { met: true, last: row, waitedMs: Date.now() - started };
    } catch (err) {
      if (!isTransient(err)) throw err;
      failure = err;
    }
    if (Date.now() - started >= opts.timeoutMs) {
      if (failure) throw failure;
      return { met: false, last, waitedMs: Date.now() - started };
    }
    await sleep(opts.pollIntervalMs ?? 100, opts.signal);
  }
}
