import { GlintError } from '../errors/index.ts';
import { type DeploymentRecord, isTerminal, StateErrorCode } from '../etcd/index.ts';
import type { DeploymentChanges, StateReads } from './api-ports.ts';

/** A lost watch costs at most this long: the record is read again anyway. */
const RECHECK_MS = 5_000;

/**
 * The stored deployment once it has ended, or as it is when `signal` aborts (the wait ran out,
 * the client left, the daemon stops). Reads etcd, so it works on any daemon: the leader writes
 * every change of the record there.
 */
export async function awaitDeploymentEnd(
  ports: { state: StateReads; changes: DeploymentChanges },
  app: string,
  id: string,
  signal: AbortSignal,
): Promise<DeploymentRecord> {
  for (;;) {
    const found = await ports.state.getDeployment(app, id);
    if (!found)
      throw new GlintError(StateErrorCode.DeploymentNotFound, `${app} has no deployment ${id}`, {
        details: { app, id },
      });
    if (isTerminal(found.record.state) || signal.aborted) return found.record;
    await ports.changes.next(
      app,
      id,
      found.modRevision,
      AbortSignal.any([signal, AbortSignal.timeout(RECHECK_MS)]),
    );
  }
}
