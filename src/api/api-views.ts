import type { AppConfig } from '../config/index.ts';
import {
  type AppRecord,
  type DeploymentRecord,
  isTerminal,
  type Release,
  type ServiceEntry,
} from '../etcd/index.ts';
import type { RuntimeInstance } from '../rollout/index.ts';

/**
 * What the API shows of glint's records. Pure: data in, JSON-ready data out. Env appears by
 * variable names and fingerprint only: values stay in etcd and secrets never leave it.
 */

export function releaseView(release: Release) {
  return {
    version: release.version,
    digest: release.digest,
    imageRef: release.imageRef,
    specHash: release.specHash,
    env: {
      fingerprint: release.env.fingerprint,
      names: [...Object.keys(release.env.values), ...release.env.secretNames].sort(),
    },
  };
}

export function deploymentView(d: DeploymentRecord) {
  return {
    id: d.id,
    app: d.app,
    kind: d.kind,
    state: d.state,
    ...(d.cause ? { cause: d.cause } : {}),
    trigger: d.trigger ?? null,
    from: d.from ? releaseView(d.from) : null,
    to: releaseView(d.to),
    instances: d.instances,
    strategy: d.strategy,
    promoted: d.promoted,
    cancelRequested: d.cancelRequested,
    status: d.status ?? null,
    progress: d.progress,
    steps: d.steps,
    error: d.error ?? null,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    finishedAt: d.finishedAt ?? null,
  };
}
export type DeploymentView = ReturnType<typeof deploymentView>;

/**
 * A deployment as the event stream carries it: everything but its steps (which come as step
 * events of their own) and how many there are. The stream keeps its last 1,000 events, and a
 * large rollout's record with every step, once per update, would hold tens of megabytes.
 */
export function deploymentEventView(d: DeploymentRecord) {
  const { steps, ...view } = deploymentView(d);
  return { ...view, stepCount: steps.length };
}

/** What is known of an app's state, read from etcd (and, for one app, its engines). */
export type AppFacts = {
  name: string;
  config: AppConfig;
  record: AppRecord | undefined;
  /** Newest first; the active one, if any, is among them. */
  deployments: readonly DeploymentRecord[];
  /** Ready instances, as registered in etcd. */
  ready: readonly ServiceEntry[];
};

/**
 * When the next rotation is due. Scheduled rotations are not computed by the API; a scheduler
 * that knows its next run plugs in here.
 */
export type NextRotation = (app: string) => string | null;

export function appSummary(facts: AppFacts, nextRotation: NextRotation) {
  const { name, config, record, deployments, ready } = facts;
  const active = deployments.find((d) => !isTerminal(d.state));
  const lastRotation = deployments.find((d) => d.kind === 'rotate');
  return {
    name,
    image: config.image,
    declared: { version: config.version, instances: config.instances },
    running: record?.current
      ? {
          version: record.current.version,
          digest: record.current.digest,
          deploymentId: record.current.deploymentId,
          deployedAt: record.current.deployedAt,
        }
      : null,
    instances: {
      wanted: active?.instances ?? record?.instances ?? config.instances,
      ready: ready.length,
    },
    activeDeployment: active ? { id: active.id, kind: active.kind, state: active.state } : null,
    rotation: {
      last: lastRotation
        ? { deploymentId: lastRotation.id, state: lastRotation.state, at: lastRotation.createdAt }
        : null,
      next: nextRotation(name),
    },
  };
}

/** Releases the app has run or is moving between, by spec hash: what each instance was made of. */
function releasesBySpec(facts: AppFacts): Map<string, Release> {
  const bySpec = new Map<string, Release>();
  const add = (r: Release | undefined) => {
    if (r && !bySpec.has(r.specHash)) bySpec.set(r.specHash, r);
  };
  for (const d of facts.deployments) {
    add(d.to);
    add(d.from);
  }
  add(facts.record?.current);
  for (const h of facts.record?.history ?? []) add(h);
  return bySpec;
}

export function instanceViews(facts: AppFacts, instances: readonly RuntimeInstance[], now: number) {
  const releases = releasesBySpec(facts);
  const registered = new Map(facts.ready.map((e) => [e.instance, e]));
  return [...instances]
    .sort((a, b) => a.createdAt - b.createdAt || a.instance.localeCompare(b.instance))
    .map((i) => {
      const release = releases.get(i.specHash);
      const entry = registered.get(i.instance);
      const started = i.startedAt ?? i.createdAt;
      return {
        id: i.instance,
        node: i.node,
        containerId: i.containerId,
        version: i.version,
        digest: entry?.digest ?? release?.digest ?? null,
        address: i.host && i.port ? `${i.host}:${i.port}` : null,
        health: !i.running ? 'stopped' : entry ? 'ready' : 'not ready',
        ...(i.exit ? { exit: i.exit } : {}),
        startedAt: new Date(started).toISOString(),
        ageSeconds: Math.max(0, Math.floor((now - started) / 1000)),
        // The container's own label first: a release no longer in the records still shows.
        envFingerprint: i.envFingerprint ?? release?.env.fingerprint ?? null,
        configRevision: i.configRevision ?? release?.env.readRevision ?? null,
      };
    });
}

export function appDetail(
  facts: AppFacts,
  instances: readonly RuntimeInstance[],
  now: number,
  nextRotation: NextRotation,
) {
  const summary = appSummary(facts, nextRotation);
  return {
    ...summary,
    instances: { ...summary.instances, list: instanceViews(facts, instances, now) },
    configChanges: facts.record?.configChanges ?? [],
    lastVersions: (facts.record?.history ?? []).map((h) => ({
      version: h.version,
      digest: h.digest,
      deploymentId: h.deploymentId,
      deployedAt: h.deployedAt,
    })),
  };
}
