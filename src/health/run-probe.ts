import type { ContainerExec, ContainerHealthSource } from './container-ports.ts';
import type { HealthCheck, ProbeResult } from './health-check.ts';
import { probeDockerHealth } from './probe-docker-health.ts';
import { probeExec } from './probe-exec.ts';
import { probeHttp } from './probe-http.ts';
import { probeTcp } from './probe-tcp.ts';

/** Where an instance is reached: its container, and its app port as published on the host. */
export type ProbeTarget = { containerId: string; host: string; port: number };

/** Runs the declared probe once against an instance. */
export function runProbe(
  check: HealthCheck,
  target: ProbeTarget,
  deps: { runtime: ContainerExec & ContainerHealthSource; signal?: AbortSignal },
): Promise<ProbeResult> {
  const base = { timeoutMs: check.timeout, ...(deps.signal ? { signal: deps.signal } : {}) };
  switch (check.type) {
    case 'http':
      return probeHttp({
        ...base,
        host: target.host,
        port: target.port,
        path: check.path,
        expectStatus: check.expectStatus,
      });
    case 'tcp':
      return probeTcp({ ...base, host: target.host, port: target.port });
    case 'exec':
      return probeExec(deps.runtime, { ...base, containerId: target.containerId, command: check.command });
    case 'docker':
      return probeDockerHealth(deps.runtime, { ...base, containerId: target.containerId });
  }
}
