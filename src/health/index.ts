export type { ContainerExec, ContainerHealthSource } from './container-ports.ts';
export { HealthErrorCode } from './error-codes.ts';
export {
  type HealthCheck,
  type HealthTiming,
  type ProbeResult,
  parseStatusRange,
} from './health-check.ts';
export {
  HealthPhase,
  type HealthPolicy,
  type HealthState,
  initialHealthState,
  nextHealthState,
} from './health-state.ts';
export { type DockerHealthProbe, probeDockerHealth } from './probe-docker-health.ts';
export { type ExecProbe, probeExec } from './probe-exec.ts';
export { type HttpProbe, probeHttp } from './probe-http.ts';
export { probeTcp, type TcpProbe } from './probe-tcp.ts';
export { type ProbeTarget, runProbe } from './run-probe.ts';
export {
  type WaitHealthyOptions,
  type WatchHealthOptions,
  waitUntilHealthy,
  watchHealth,
} from './watch-health.ts';
