import type { DeploymentKind } from '../etcd/state-records.ts';

export type DriftInput = {
  /** The count to run: the declaration's when it changed, else what the last deployment left. */
  instances: number;
  /** Spec hash of the release to run now (image digest, env, resources, health...). */
  targetSpec: string;
  /** The declaration's version changed since it was last applied. */
  versionChanged: boolean;
  /** The env to run (declared env, etcd config, secrets) differs from the current release's. */
  envChanged?: boolean;
  /** What the last successful deployment made current, and with how many instances. */
  current?: { specHash: string; instances?: number | undefined } | undefined;
  /** Running containers of the app and their spec hashes. */
  running: readonly { specHash: string }[];
};

export type Drift = { kind: DeploymentKind; why: string } | undefined;

/**
 * What it takes to make an app match its declaration: nothing, a `deploy` (a new version), a
 * `config` rollout (same image, other env, resources or health), a `scale`, or a `heal`
 * (instances missing or drifted). Pure, so "a restart with nothing changed replaces nothing"
 * is a table test.
 */
export function declarationDrift(d: DriftInput): Drift {
  if (!d.current) return { kind: 'deploy', why: 'first deployment' };
  if (d.current.specHash !== d.targetSpec)
    return d.versionChanged
      ? { kind: 'deploy', why: 'the declared version changed' }
      : {
          kind: 'config',
          // A daemon that was not leading missed the etcd change: say so, not "declared".
          why: d.envChanged
            ? 'the env changed (in etcd or in the declaration)'
            : 'the declared resources or health changed',
        };
  if (d.current.instances !== undefined && d.current.instances !== d.instances)
    return { kind: 'scale', why: `instances ${d.current.instances} → ${d.instances}` };
  const matching = d.running.filter((r) => r.specHash === d.targetSpec).length;
  if (matching !== d.instances || d.running.length !== matching)
    return { kind: 'heal', why: `${matching} of ${d.instances} instances run the current revision` };
  return undefined;
}
