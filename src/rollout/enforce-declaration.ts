import type { AppConfig } from '../config/index.ts';
import type { AppRecord, DeploymentRecord, Release, Versioned } from '../etcd/index.ts';
import type { Logger } from '../log/index.ts';
import type { ReleaseSource } from './app-releases.ts';
import { declarationDrift } from './declaration-drift.ts';
import type { DeploymentRequest } from './deployment-request.ts';
import type { ContainerRuntime, LoadBalancer, ServiceRegistry } from './ports.ts';
import { registryEntry } from './registry-entry.ts';

export type DeclarationDeps = {
  apps: () => Readonly<Record<string, AppConfig>>;
  store: {
    getApp(app: string): Promise<Versioned<AppRecord> | undefined>;
    saveApp(record: AppRecord, opts: { expectedModRevision: number }): Promise<number>;
    activeDeployment(app: string): Promise<string | undefined>;
  };
  releases: ReleaseSource;
  runtime: ContainerRuntime;
  lb: LoadBalancer;
  registry: ServiceRegistry;
  startDeployment(app: string, request: DeploymentRequest): Promise<DeploymentRecord>;
  log: Logger;
  now: () => number;
};

export type Enforced = { app: string; action: 'kept' | 'deployment' | 'busy' | 'error'; detail: string };

/**
 * Brings every declared app to its declaration, at start and on SIGHUP. A version or count set
 * through the API stands until the declaration itself changes; an app that already matches is
 * adopted as it runs (its ready instances registered again under this daemon's lease).
 */
export async function enforceDeclaration(deps: DeclarationDeps): Promise<Enforced[]> {
  const out: Enforced[] = [];
  for (const [app, config] of Object.entries(deps.apps())) {
    try {
      out.push(await enforceApp(deps, app, config));
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      deps.log.warn({ app, err: detail }, 'cannot bring the app to its declaration yet');
      out.push({ app, action: 'error', detail });
    }
  }
  return out;
}

async function enforceApp(deps: DeclarationDeps, app: string, config: AppConfig): Promise<Enforced> {
  if (await deps.store.activeDeployment(app))
    return { app, action: 'busy', detail: 'a deployment is active' };
  const found = await deps.store.getApp(app);
  const record = found?.record;
  const versionChanged = record?.declared?.version !== config.version;
  const countChanged = record?.declared?.instances !== config.instances;
  const current = record?.current;
  const target: Release =
    versionChanged || !current
      ? await deps.releases.resolve(app, config.version)
      : await deps.releases.refresh(app, current);
  const instances = countChanged ? config.instances : (record?.instances ?? config.instances);
  const containers = await deps.runtime.list(app);
  const running = containers.filter((c) => c.running);
  const drift = declarationDrift({
    instances,
    targetSpec: target.specHash,
    versionChanged,
    envChanged: current !== undefined && current.env.fingerprint !== target.env.fingerprint,
    current: current ? { specHash: current.specHash, instances: record?.instances } : undefined,
    running,
  });
  await rememberDeclared(deps, app, config, found);
  if (!drift) {
    await adopt(deps, app, running, target);
    return {
      app,
      action: 'kept',
      detail: `${running.length} instances of ${target.version} kept as they run`,
    };
  }
  const started = await deps.startDeployment(app, {
    kind: drift.kind,
    release: target,
    instances,
    cause: `declaration: ${drift.why}`,
  });
  return { app, action: 'deployment', detail: `${started.kind} ${started.id}: ${drift.why}` };
}

async function rememberDeclared(
  deps: DeclarationDeps,
  app: string,
  config: AppConfig,
  found?: Versioned<AppRecord>,
) {
  const declared = { version: config.version, instances: config.instances };
  const r = found?.record;
  if (r?.declared?.version === declared.version && r.declared.instances === declared.instances) return;
  const base: AppRecord = r ?? { app, history: [], updatedAt: '' };
  await deps.store.saveApp(
    { ...base, declared, updatedAt: new Date(deps.now()).toISOString() },
    { expectedModRevision: found?.modRevision ?? 0 },
  );
}

/** Instances in rotation go back into the registry: the old daemon's lease took them with it. */
async function adopt(
  deps: DeclarationDeps,
  app: string,
  running: Awaited<ReturnType<ContainerRuntime['list']>>,
  release: Release,
) {
  const ready = new Set((await deps.lb.servers(app)).filter((s) => s.state === 'ready').map((s) => s.name));
  for (const c of running) {
    if (!ready.has(c.instance) || !c.host || !c.port) continue;
    await deps.registry.register(registryEntry(app, { ...c, host: c.host, port: c.port }, release));
  }
}
