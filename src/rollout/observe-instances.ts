import type { DeploymentStep } from '../etcd/state-records.ts';
import type { TrackedHealth } from './health-tracker.ts';
import { LbMembership, type ObservedInstance } from './plan-types.ts';
import type { BackendServer, RuntimeInstance } from './ports.ts';

export type ObservationSources = {
  containers: readonly RuntimeInstance[];
  servers: readonly BackendServer[];
  health: (instance: string) => TrackedHealth | undefined;
  /** When HAProxy's own check was first seen passing, per server. */
  lbPassedAt: ReadonlyMap<string, number>;
  steps: readonly DeploymentStep[];
  /** Instances with a step in flight, and starts not yet visible as containers. */
  inFlight: ReadonlySet<string>;
  pendingStarts: readonly { instance: string; node: string; specHash: string; at: number }[];
  /** Instances this process started for the deployment (the record may not show them yet). */
  launched?: ReadonlySet<string>;
  now: number;
};

function membership(server: BackendServer | undefined): LbMembership {
  if (!server || server.state === 'maint') return LbMembership.Absent;
  return server.state === 'ready' ? LbMembership.Ready : LbMembership.Staged;
}

/**
 * Folds what Docker, HAProxy, glint's probes and the deployment record say into the planner's
 * input. Healthy means both glint's probe and HAProxy's check passed (DESIGN's "ready" minus
 * `minHealthyTime`, which the planner counts). Whether an instance is retiring comes from the
 * record, never from its HAProxy state: a staged new server and a draining old one both sit in
 * `drain`. Pure.
 */
export function observeInstances(src: ObservationSources): ObservedInstance[] {
  const servers = new Map(src.servers.map((s) => [s.name, s]));
  const leaving = new Set(
    src.steps.filter((s) => s.kind === 'retire' || s.kind === 'discard').map((s) => s.instance),
  );
  const startedHere = new Set([
    ...src.steps.filter((s) => s.kind === 'start').map((s) => s.instance),
    ...(src.launched ?? []),
  ]);
  const seen = new Set(src.containers.map((c) => c.instance));
  const starting = new Set(src.pendingStarts.map((p) => p.instance));
  const observed = src.containers.map((c): ObservedInstance => {
    // A container whose start is in flight is not running yet, and has not failed either.
    const running = c.running || starting.has(c.instance);
    const server = servers.get(c.instance);
    const health = src.health(c.instance);
    const lbAt = src.lbPassedAt.get(c.instance);
    const healthyAt =
      health?.healthyAt !== undefined && lbAt !== undefined && server?.checkPassed
        ? Math.max(health.healthyAt, lbAt)
        : undefined;
    return {
      instance: c.instance,
      node: c.node,
      specHash: c.specHash,
      createdAt: c.createdAt,
      watchedSince: health?.watchedSince ?? src.now,
      running,
      healthyAt,
      failedAt: health?.failedAt,
      failure: running
        ? (health?.failedBecause ?? health?.lastReason)
        : (c.exit ?? 'the container is not running'),
      lb: membership(server),
      retiring: leaving.has(c.instance),
      busy: src.inFlight.has(c.instance),
      inherited: !startedHere.has(c.instance) && !starting.has(c.instance),
    };
  });
  const pending = src.pendingStarts
    .filter((p) => !seen.has(p.instance))
    .map(
      (p): ObservedInstance => ({
        instance: p.instance,
        node: p.node,
        specHash: p.specHash,
        createdAt: p.at,
        watchedSince: p.at,
        running: true,
        lb: LbMembership.Absent,
        retiring: false,
        busy: true,
      }),
    );
  return [...observed, ...pending];
}
