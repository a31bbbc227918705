import type { ContainerInspectInfo } from 'dockerode';
import { GLINT_LABELS } from './instance-spec.ts';

export const ContainerState = {
  Created: 'created',
  Running: 'running',
  Paused: 'paused',
  Restarting: 'restarting',
  Removing: 'removing',
  Exited: 'exited',
  Dead: 'dead',
} as const;
export type ContainerState = (typeof ContainerState)[keyof typeof ContainerState];

/** Docker's own HEALTHCHECK status; `none` when the image declares none. */
export type DockerHealthStatus = 'none' | 'starting' | 'healthy' | 'unhealthy';

/** A container as glint sees it: its labels read back into glint's words. */
export type ObservedContainer = {
  id: string;
  name: string;
  managed: boolean;
  app?: string;
  instance?: string;
  version?: string;
  digest?: string;
  specHash?: string;
  deploymentId?: string;
  image: string;
  state: ContainerState;
  exitCode?: number;
  oomKilled: boolean;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** Published host port of the first exposed TCP port, once running. */
  hostPort?: number;
  hostIp?: string;
  /** The last check's exit code; never its output, which can hold secrets. */
  health: { status: DockerHealthStatus; failingStreak: number; lastExitCode?: number };
  labels: Record<string, string>;
};

const ZERO_TIME = '0001-01-01T00:00:00Z';

function published(info: ContainerInspectInfo): { hostPort?: number; hostIp?: string } {
  const ports = info.NetworkSettings?.Ports ?? {};
  for (const [key, bindings] of Object.entries(ports)) {
    if (!key.endsWith('/tcp') || !bindings?.length) continue;
    const binding = bindings[0]!;
    return { hostPort: Number(binding.HostPort), hostIp: binding.HostIp };
  }
  return {};
}

/** The engine's inspect answer folded into an ObservedContainer (pure). */
export function toObservedContainer(info: ContainerInspectInfo): ObservedContainer {
  const labels = info.Config?.Labels ?? {};
  const state = info.State;
  const health = state.Health;
  const lastLog = health?.Log?.at(-1);
  const out: ObservedContainer = {
    id: info.Id,
    name: info.Name.replace(/^\//, ''),
    managed: labels[GLINT_LABELS.managed] === 'true',
    image: info.Config?.Image ?? info.Image,
    state: state.Status as ContainerState,
    oomKilled: state.OOMKilled,
    createdAt: info.Created,
    health: {
      status: (health?.Status as DockerHealthStatus | undefined) ?? 'none',
      failingStreak: health?.FailingStreak ?? 0,
      ...(lastLog ? { lastExitCode: lastLog.ExitCode } : {}),
    },
    labels,
  };
  const fromLabel = {
    app: GLINT_LABELS.app,
    instance: GLINT_LABELS.instance,
    version: GLINT_LABELS.version,
    digest: GLINT_LABELS.digest,
    specHash: GLINT_LABELS.spec,
    deploymentId: GLINT_LABELS.deployment,
  } as const;
  for (const [field, label] of Object.entries(fromLabel) as Array<[keyof typeof fromLabel, string]>) {
    if (labels[label]) out[field] = labels[label];
  }
  if (state.Status !== 'created' && state.Status !== 'running') out.exitCode = state.ExitCode;
  if (state.StartedAt && state.StartedAt !== ZERO_TIME) out.startedAt = state.StartedAt;
  if (state.FinishedAt && state.FinishedAt !== ZERO_TIME) out.finishedAt = state.FinishedAt;
  Object.assign(out, published(info));
  return out;
}
