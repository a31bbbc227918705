import type { DeploymentRecord, Release } from '../../src/etcd/state-records.ts';

/** A release of `version` with a made-up digest and env, for state-store tests. */
export function release(version: string, readRevision = 1): Release {
  return {
    imageRef: `127.0.0.1:5000/demo-app@sha256:${version}`,
    version,
    digest: `sha256:${version}`,
    specHash: `spec-${version}`,
    env: { fingerprint: `fp-${version}`, readRevision, values: { GREETING: 'hello' }, secretNames: [] },
  };
}

/** A running deployment of `version`, created at `at`, with one finished start step. */
export function deploymentRecord(
  app: string,
  id: string,
  version: string,
  at: string,
  over: Partial<DeploymentRecord> = {},
): DeploymentRecord {
  return {
    id,
    app,
    kind: 'deploy',
    state: 'running',
    to: release(version),
    instances: 2,
    strategy: {
      maxSurge: 1,
      maxUnavailable: 0,
      minHealthyTime: 0,
      healthyDeadline: 60_000,
      progressDeadline: 600_000,
      drainTimeout: 30_000,
      stopTimeout: 10_000,
      onFailure: 'rollback',
      canary: 0,
    },
    promoted: false,
    cancelRequested: false,
    lastProgressAt: Date.parse(at),
    steps: [
      {
        seq: 1,
        kind: 'start',
        state: 'succeeded',
        instance: `${app}-a`,
        node: 'local',
        attempt: 1,
        startedAt: at,
        finishedAt: at,
      },
    ],
    progress: { desired: 2, healthy: 1 },
    createdAt: at,
    updatedAt: at,
    ...over,
  };
}
