import type { DockerEndpoint, EngineAccess, GlintConfig } from './config/index.ts';
import { readEngineAccess, readRegistryAccess } from './config/index.ts';
import {
  DEFAULT_BRIDGE_GATEWAY,
  DockerEngine,
  DockerNodes,
  discoverServiceAddress,
  type EngineConnection,
  RegistryAuthenticator,
  RegistryClient,
} from './docker/index.ts';
import { isTransient } from './errors/index.ts';
import type { EtcdClient, LeaderElection, LeaderGuard } from './etcd/index.ts';
import { EtcdServiceRegistry, EtcdStateStore } from './etcd/index.ts';
import type { HaproxyLoadBalancer } from './lb/index.ts';
import type { Logger } from './log/index.ts';
import { NodeHealth } from './nodes/index.ts';
import { AppReleases, ConfigRollouts, RolloutEngine } from './rollout/index.ts';

/** How long a remote engine may take to list its containers before it counts as not answering. */
const REMOTE_LIST_TIMEOUT_MS = 30_000;

/** What building an engine reads of an endpoint; the rest of the declaration is placement's. */
type Endpoint = Pick<DockerEndpoint, 'name' | 'socketPath' | 'url' | 'tls' | 'serviceAddress'> & {
  insecure?: boolean | undefined;
};

/** The engine of a declared endpoint; its TLS files are read (or its ssh-agent found) now. */
export function engineFor(endpoint: Endpoint): DockerEngine {
  return new DockerEngine(engineConnectionOf(endpoint, readEngineAccess(endpoint)));
}

/**
 * How an endpoint's URL becomes an engine connection: tcp:// and https:// with `tls` speak
 * mutual TLS (the CA checks the engine, the certificate and key prove glint); tcp:// declared
 * `insecure` speaks plain HTTP, https:// declared `insecure` TLS without a client certificate;
 * http:// is plain HTTP; ssh:// runs `docker system dial-stdio` as the URL's user, port 22
 * unless given. Without a URL, the socket (default /var/run/docker.sock).
 */
export function engineConnectionOf(endpoint: Endpoint, access: EngineAccess): EngineConnection {
  if (!endpoint.url) return { socketPath: endpoint.socketPath ?? '/var/run/docker.sock' };
  const url = new URL(endpoint.url);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (url.protocol === 'ssh:')
    return {
      protocol: 'ssh',
      host,
      port: Number(url.port || 22),
      username: decodeURIComponent(url.username),
      ...(access.sshAgent ? { sshAgent: access.sshAgent } : {}),
    };
  const port = Number(url.port || (url.protocol === 'http:' ? 2375 : 2376));
  if (access.tls) return { protocol: 'https', host, port, ...access.tls };
  const plain = url.protocol === 'http:' || (url.protocol === 'tcp:' && endpoint.insecure);
  return { protocol: plain ? 'http' : 'https', host, port };
}

/**
 * Where each endpoint's containers reach HAProxy, by endpoint name: its declared
 * `serviceAddress`, or its engine's bridge gateway (right when HAProxy runs on that engine's
 * machine). Read once at start; a change of endpoints needs a restart, like the engines.
 */
export async function serviceAddressesOf(
  endpoints: readonly Endpoint[],
  log: Logger,
): Promise<Map<string, string>> {
  const found = await Promise.all(
    endpoints.map(async (e) => [e.name, e.serviceAddress ?? (await discovered(e, log))] as const),
  );
  return new Map(found);
}

/**
 * An engine that does not answer at start does not hold the daemon back (nothing runs there
 * until it answers anyway): its containers get Docker's default gateway until the next start
 * reads the real one, which then differs from their spec only if the engine uses another.
 */
async function discovered(e: Endpoint, log: Logger): Promise<string> {
  let address: string;
  try {
    address = await discoverServiceAddress(engineFor(e), e.name);
  } catch (err) {
    if (!isTransient(err)) throw err;
    log.warn(
      { endpoint: e.name, serviceAddress: DEFAULT_BRIDGE_GATEWAY, err: (err as Error).message },
      `could not read the bridge gateway of docker endpoint ${e.name}; assuming Docker's default until the next start (set serviceAddress to be sure)`,
    );
    return DEFAULT_BRIDGE_GATEWAY;
  }
  // A remote engine's bridge gateway is on its own machine, not on HAProxy's.
  if (e.url)
    log.warn(
      { endpoint: e.name, serviceAddress: address },
      `containers reach HAProxy at the engine's bridge gateway; unless HAProxy runs on that engine's machine, set serviceAddress on docker endpoint ${e.name}`,
    );
  else
    log.info(
      { endpoint: e.name, serviceAddress: address },
      "containers reach HAProxy at the engine's bridge gateway",
    );
  return address;
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
  /** Pings every engine; started by the daemon before it campaigns, so placement knows them. */
  health: NodeHealth;
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
  /** From serviceAddressesOf, by endpoint name. */
  serviceAddresses: ReadonlyMap<string, string>;
}): Promise<RolloutWiring> {
  const config = opts.config();
  const access = await readRegistryAccess(config);
  // Node health reads the engines through `nodes`, and `nodes` reads each engine's state from it.
  let health: NodeHealth | undefined;
  const nodes = new DockerNodes(
    config.docker.endpoints.map((e) => ({
      name: e.name,
      engine: engineFor(e),
      hostIp: e.hostIp,
      addressMode: e.addressMode,
      hostPorts: e.hostPorts,
      serviceAddress: opts.serviceAddresses.get(e.name) ?? '',
      labels: e.labels,
      capacity: e.capacity,
      ...(e.url ? { listTimeoutMs: REMOTE_LIST_TIMEOUT_MS } : {}),
    })),
    {
      credentials: access.credentials,
      logger: opts.log.child({ component: 'docker' }),
      state: (node) => health?.state(node) ?? 'up',
    },
  );
  health = new NodeHealth(
    nodes.nodes().map((name) => ({ name, ping: (signal: AbortSignal) => nodes.ping(name, signal) })),
    {
      intervalMs: config.docker.pingInterval,
      downAfterMs: config.docker.nodeDownAfter,
      log: opts.log.child({ component: 'nodes' }),
    },
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
      serviceAddressOf: (node) => nodes.serviceAddressOf(node),
      defaultNode: nodes.nodes()[0]!,
    }),
    clock,
    log: opts.log.child({ component: 'rollout' }),
  });
  const configRollouts = new ConfigRollouts({ etcd: opts.etcd, apps, engine, store, clock, log: opts.log });
  return { engine, nodes, health, registry, configRollouts };
}
