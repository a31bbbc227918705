import { GlintError } from '../errors/index.ts';
import { sleep } from '../time/index.ts';
import { LbErrorCode } from './error-codes.ts';
import type { MasterCli } from './master-cli.ts';

/**
 * Old workers keep the server list they had when a reload replaced them and finish their
 * connections with it. This remembers which servers each one knew, so a container is not
 * stopped while an old worker may still send it a request.
 */
export class OldWorkerTracker {
  private readonly knownBy = new Map<number, Set<string>>();

  constructor(
    private readonly master: MasterCli,
    private readonly pollIntervalMs = 100,
  ) {}

  /** Called after a reload with the workers it replaced and the servers they routed to. */
  superseded(pids: number[], serverKeys: string[]): void {
    for (const pid of pids) this.knownBy.set(pid, new Set([...(this.knownBy.get(pid) ?? []), ...serverKeys]));
  }

  /** False while an old worker that knew `key` runs; an old worker of unknown history counts. */
  async canStop(key: string): Promise<boolean> {
    const { oldWorkers } = await this.master.showProc();
    const alive = new Set(oldWorkers.map((w) => w.pid));
    for (const pid of this.knownBy.keys()) if (!alive.has(pid)) this.knownBy.delete(pid);
    return oldWorkers.every((w) => this.knownBy.get(w.pid)?.has(key) === false);
  }

  async waitUntilStoppable(key: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await this.canStop(key))) {
      signal?.throwIfAborted();
      if (Date.now() > deadline) {
        throw new GlintError(
          LbErrorCode.OldWorkerLingers,
          `an old HAProxy worker still routes to ${key} after ${timeoutMs}ms; do not stop that instance yet (hard-stop-after ends old workers)`,
          { details: { server: key } },
        );
      }
      await sleep(this.pollIntervalMs, signal);
    }
  }

  async waitAllGone(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await this.master.showProc()).oldWorkers.length > 0) {
      if (Date.now() > deadline)
        throw new GlintError(
          LbErrorCode.OldWorkerLingers,
          `old HAProxy workers still run after ${timeoutMs}ms`,
        );
      await sleep(this.pollIntervalMs);
    }
  }
}
