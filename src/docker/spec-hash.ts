import { createHash } from 'node:crypto';
import type { InstanceSpec } from './instance-spec.ts';

/** JSON with keys sorted at every depth and undefined dropped: equal data, equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * The desired-state fingerprint stamped as `glint.spec`. It covers what the container is made
 * of: app, image digest, env, ports, resources, health, extra labels, stop timeout, declared
 * security settings and network. It leaves out the instance id (all instances of one spec share
 * a hash), the deployment id (redeploying the same spec is not drift), config provenance (the env
 * it produced is already in) and where it runs: the engine's host IP, the host port a host-network
 * instance was given and the address `glint-lb`
 * resolves to there are placement, so one release on two engines is one revision.
 */
export function computeSpecHash(spec: InstanceSpec): string {
  const material = {
    v: 2,
    app: spec.app,
    digest: spec.image.digest,
    repository: spec.image.repository,
    env: spec.env,
    containerPort: spec.containerPort,
    resources: { memoryBytes: spec.resources.memoryBytes, nanoCpus: spec.resources.nanoCpus },
    health: spec.health,
    labels: spec.labels,
    stopTimeoutMs: spec.stopTimeoutMs,
    // Absent when nothing is declared, so apps without settings keep the hashes they had.
    security: spec.security,
    // The same: absent unless the app runs in the host's network. The port it gets is placement.
    network: spec.network,
  };
  return createHash('sha256').update(canonicalJson(material)).digest('hex').slice(0, 32);
}
