import type { ContainerHealthSource } from './container-ports.ts';
import type { ProbeResult } from './health-check.ts';

export type DockerHealthProbe = { containerId: string; timeoutMs: number; signal?: AbortSignal };

/**
 * Reads the image's own HEALTHCHECK status from the engine. It lags by at least one of the
 * image's intervals, so direct probes decide faster; this one exists for images that know best.
 */
export async function probeDockerHealth(
  source: ContainerHealthSource,
  probe: DockerHealthProbe,
): Promise<ProbeResult> {
  const timeout = AbortSignal.timeout(probe.timeoutMs);
  const signal = probe.signal ? AbortSignal.any([timeout, probe.signal]) : timeout;
  let observed: Awaited<ReturnType<ContainerHealthSource['inspect']>>;
  try {
    observed = await source.inspect(probe.containerId, { signal });
  } catch (err) {
    if (timeout.aborted) return { ok: false, reason: `timeout after ${probe.timeoutMs}ms` };
    return { ok: false, reason: `inspect failed: ${(err as Error).message}` };
  }
  if (!observed) return { ok: false, reason: 'container not found' };
  if (observed.state !== 'running') return { ok: false, reason: `container ${observed.state}` };
  // The HEALTHCHECK's output stays out of the reason (it is logged, and may hold secrets).
  const { status, lastExitCode } = observed.health;
  if (status === 'healthy') return { ok: true, reason: 'docker health healthy' };
  if (status === 'none') return { ok: false, reason: 'image declares no HEALTHCHECK' };
  const exit = status === 'unhealthy' && lastExitCode !== undefined ? ` (exit code ${lastExitCode})` : '';
  return { ok: false, reason: `docker health ${status}${exit}` };
}
