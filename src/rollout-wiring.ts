import type { GlintConfig } from './config/index.ts';
import { readRegistryAccess } from './config/index.ts';
import { DockerEngine, DockerNodes, RegistryAuthenticator, RegistryClient } from './docker/index.ts';
import type { EtcdClient, LeaderElection, LeaderGuard } from './etcd/index.ts';
import { EtcdServiceRegistry, EtcdStateStore } from './etcd/index.ts';
import type { HaproxyLoadBalancer } from './lb/index.ts';
import type { Logger } from './log/index.ts';
import { AppReleases, ConfigRollouts, RolloutEngine } from './rollout/index.ts';

type Endpoint = GlintConfig['docker']['endpoints'][number];

export function engineFor(endpoint: Endpoint): DockerEngine {
  if (!endpoint.url) return new DockerEngine({ socketPath: endpoint.socketPath ?? '/var/run/docker.sock' });
  const url = new URL(endpoint.url);
  return new DockerEngine({
    host: url.hostname,
    port: Number(url.port || 2375),
    protocol: url.protocol === 'https:' ? 'https' : 'http',
  });
}

/** The state store with every write carrying the leader guard: a deposed leader's write fails in etcd. */
function leaderOnly(store: EtcdStateStore, guard: () => LeaderGuard) {
  return {
    getApp: (app: string) => store.getApp(app),
    saveApp: (...[r, o]: Parameters<EtcdStateStore['saveApp']>) => store.saveApp(r, { ...o, guard: guard() }),
    getDeployment: (app: string, id: string) => store.getDeployment(app, id),
    activeDeployment: (app: string) => store.activeDeployment(app),
    listDeployments: (app: string, o?: { limit?: number }) => store.listDeployments(app, o),
    beginDeployment: (r: Parameters<EtcdStateStore['beginDeployment']>[0]) =>
      store.beginDeployment(r, { guard: guard() }),
    updateDeployment: (...[r, o]: Parameters<EtcdStateStore['updateDeployment']>) =>
      store.updateDeployment(r, { ...o, guard: guard() }),
    finishDeployment: (...[r, o]: Parameters<EtcdStateStore['finishDeployment']>) =>
      store.finishDeployment(r, { ...o, guard: guard() }),
  };
}

export type RolloutWiring = {
  engine: RolloutEngine;
  nodes: DockerNodes;
  registry: EtcdServiceRegistry;
  /** Changes of an app's env in etcd rolled out as `config` deployments; the leader starts it. */
  configRollouts: ConfigRollouts;
};

/** Builds the rollout engine on the daemon's adapters; `apps` is read on every use, so SIGHUP can swap it. */
export async function wireRollout(opts: {
  config: () => GlintConfig;
  etcd: EtcdClient;
  lb: HaproxyLoadBalancer;
  election: LeaderElection;
  log: Logger;
}): Promise<RolloutWiring> {
  const config = opts.config();
  const access = await readRegistryAccess(config);
  const nodes = new DockerNodes(
    config.docker.endpoints.map((e) => ({ name: e.name, engine: engineFor(e), hostIp: e.hostIp })),
    { credentials: access.credentials, logger: opts.log.child({ component: 'docker' }) },
  );
  const registry = new EtcdServiceRegistry(opts.etcd);
  const apps = () => opts.config().apps;
  const store = leaderOnly(new EtcdStateStore(opts.etcd), () => opts.election.guard('changing a deployment'));
  const clock = { now: () => Date.now() };
  const engine = new RolloutEngine({
    apps,
    runtime: nodes,
    lb: opts.lb,
    registry,
    store,
    releases: new AppReleases({
      apps,
      registry: new RegistryClient({
        authenticator: new RegistryAuthenticator(access.credentials),
        plainHttpHosts: access.plainHttpHosts,
        timeoutMs: 10_000,
      }),
      etcd: opts.etcd,
      hostIpOf: (node) => nodes.hostIpOf(node),
      defaultNode: nodes.nodes()[0]!,
    }),
    clock,
    log: opts.log.child({ component: 'rollout' }),
  });
  const configRollouts = new ConfigRollouts({ etcd: opts.etcd, apps, engine, store, clock, log: opts.log });
  return { engine, nodes, registry, configRollouts };
}
