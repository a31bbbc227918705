import { setTimeout as delay } from 'node:timers/promises';
import { GlintError } from '../errors/index.ts';
import { LbErrorCode } from './error-codes.ts';
import { type ProcInfo, parseShowProc } from './parse-show-proc.ts';
import { sendSocketCommand } from './socket-command.ts';

export type ReloadOutcome = {
  /** Workers that served before the reload; they keep their frozen server list until they exit. */
  previousWorkerPids: number[];
  /** Workers serving after the reload. */
  workerPids: number[];
  /** Workers of the previous configuration, still finishing their connections. */
  oldWorkerPids: number[];
  durationMs: number;
};

export type MasterCliOptions = { reloadTimeoutMs?: number; pollIntervalMs?: number; busyRetryMs?: number };

function isRefused(err: unknown): boolean {
  const cause = err instanceof Error ? (err.cause as NodeJS.ErrnoException | undefined) : undefined;
  return cause?.code === 'ECONNREFUSED';
}

/** HAProxy's master CLI (`-S <socket>` in master-worker mode). */
export class MasterCli {
  constructor(
    readonly socketPath: string,
    private readonly opts: MasterCliOptions = {},
  ) {}

  /**
   * While the master re-executes for a reload (ours or anyone's) its socket refuses
   * connections for ~150 ms, so a refusal is retried for a short while before it counts.
   * `signal` ends the call at once, retries included (a readiness probe has its own deadline).
   */
  async showProc(opts: { signal?: AbortSignal } = {}): Promise<ProcInfo> {
    const deadline = Date.now() + (this.opts.busyRetryMs ?? 3_000);
    const command = { answer: 'listing' as const, ...(opts.signal ? { signal: opts.signal } : {}) };
    for (;;) {
      try {
        return parseShowProc(await sendSocketCommand(this.socketPath, 'show proc', command));
      } catch (err) {
        if (Date.now() > deadline || !isRefused(err) || opts.signal?.aborted) throw err;
        await delay(this.opts.pollIntervalMs ?? 25, undefined, opts.signal ? { signal: opts.signal } : {});
      }
    }
  }

  /**
   * Reloads and confirms it. In 2.6 `reload` prints nothing and the master socket refuses
   * connections while the master re-executes, so success is read from `show proc`: the
   * reload counter moved, the failure counter did not, and a new worker is serving.
   */
  async reload(): Promise<ReloadOutcome> {
    const started = Date.now();
    const before = await this.showProc();
    // 2.6 answers `reload` with nothing at all, so an empty answer is the expected one.
    await sendSocketCommand(this.socketPath, 'reload', { answer: 'none' });
    const after = await this.waitForReloadCount(before.reloads + 1);
    if (after.failedReloads > before.failedReloads) {
      throw new GlintError(
        LbErrorCode.ReloadFailed,
        "HAProxy could not load the new configuration (often a frontend port already in use or an address not on this host); the previous configuration is still serving. See HAProxy's log for the reason.",
        { details: { failedReloads: after.failedReloads } },
      );
    }
    const previous = new Set(before.workers.map((w) => w.pid));
    const fresh = after.workers.filter((w) => !previous.has(w.pid));
    if (fresh.length === 0) {
      throw new GlintError(
        LbErrorCode.ReloadFailed,
        'HAProxy reported the reload but no new worker is serving',
        {
          details: { workers: after.workers },
        },
      );
    }
    return {
      previousWorkerPids: before.workers.map((w) => w.pid),
      workerPids: after.workers.map((w) => w.pid),
      oldWorkerPids: after.oldWorkers.map((w) => w.pid),
      durationMs: Date.now() - started,
    };
  }

  private async waitForReloadCount(count: number): Promise<ProcInfo> {
    const timeoutMs = this.opts.reloadTimeoutMs ?? 15_000;
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      try {
        const info = parseShowProc(
          await sendSocketCommand(this.socketPath, 'show proc', { answer: 'listing' }),
        );
        if (info.reloads >= count) return info;
      } catch (err) {
        last = err; // the socket refuses connections while the master re-executes
      }
      await new Promise((r) => setTimeout(r, this.opts.pollIntervalMs ?? 25));
    }
    throw new GlintError(
      LbErrorCode.ReloadTimeout,
      `HAProxy's master did not confirm the reload within ${timeoutMs}ms; check that HAProxy is running`,
      { cause: last },
    );
  }
}
