import type { ContainerExec } from './container-ports.ts';
import type { ProbeResult } from './health-check.ts';

export type ExecProbe = { containerId: string; command: string[]; timeoutMs: number; signal?: AbortSignal };

function lastLine(output: string): string {
  const lines = output.trim().split('\n');
  return (lines.at(-1) ?? '').slice(0, 200);
}

/** Runs a command inside the container; exit 0 passes, anything else says the code and last line. */
export async function probeExec(runtime: ContainerExec, probe: ExecProbe): Promise<ProbeResult> {
  const timeout = AbortSignal.timeout(probe.timeoutMs);
  const signal = probe.signal ? AbortSignal.any([timeout, probe.signal]) : timeout;
  try {
    const { exitCode, output } = await runtime.exec(probe.containerId, probe.command, { signal });
    if (exitCode === 0) return { ok: true, reason: 'exit code 0' };
    const tail = lastLine(output);
    return { ok: false, reason: tail ? `exit code ${exitCode}: ${tail}` : `exit code ${exitCode}` };
  } catch (err) {
    if (timeout.aborted) return { ok: false, reason: `timeout after ${probe.timeoutMs}ms` };
    if (probe.signal?.aborted) return { ok: false, reason: 'aborted' };
    return { ok: false, reason: `exec failed: ${(err as Error).message}` };
  }
}
