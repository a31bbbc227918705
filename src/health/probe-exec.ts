import type { ContainerExec } from './container-ports.ts';
import type { ProbeResult } from './health-check.ts';

export type ExecProbe = { containerId: string; command: string[]; timeoutMs: number; signal?: AbortSignal };

/**
 * Runs a command inside the container; exit 0 passes, anything else says the exit code. The
 * command's output stays out of the reason: reasons are logged and stored, and a check's output
 * can hold a connection string or a password.
 */
export async function probeExec(runtime: ContainerExec, probe: ExecProbe): Promise<ProbeResult> {
  const timeout = AbortSignal.timeout(probe.timeoutMs);
  const signal = probe.signal ? AbortSignal.any([timeout, probe.signal]) : timeout;
  try {
    const { exitCode } = await runtime.exec(probe.containerId, probe.command, { signal });
    return { ok: exitCode === 0, reason: `exit code ${exitCode}` };
  } catch (err) {
    if (timeout.aborted) return { ok: false, reason: `timeout after ${probe.timeoutMs}ms` };
    if (probe.signal?.aborted) return { ok: false, reason: 'aborted' };
    return { ok: false, reason: `exec failed: ${(err as Error).message}` };
  }
}
