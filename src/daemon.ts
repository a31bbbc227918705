import type { Server } from 'node:http';
import { hostname } from 'node:os';
import pkg from '../package.json' with { type: 'json' };
import {
  type ApiState,
  closeApiServer,
  createApi,
  createApiServer,
  FollowerEventFeed,
  nodeViews,
  type ReadinessCheck,
  TokenTable,
  untilAborted,
} from './api/index.ts';
import { type AdminToken, type GlintConfig, readSecret, resolveAdminToken } from './config/index.ts';
import { DockerRuntime } from './docker/index.ts';
import { GlintError } from './errors/index.ts';
import {
  connectEtcd,
  type EtcdClient,
  EtcdStateStore,
  LeaderElection,
  nextDeploymentChange,
  StateReadCache,
} from './etcd/index.ts';
import { connectLoadBalancer, structureFromConfig } from './lb/index.ts';
import type { Logger } from './log/index.ts';
import { GlintMetrics } from './metrics/index.ts';
import { wireReconciler } from './reconcile-wiring.ts';
import { engineFor, type RolloutWiring, serviceAddressesOf, wireRollout } from './rollout-wiring.ts';
import { EtcdRotationStore, RotationScheduler } from './rotation/index.ts';

export type Daemon = {
  url: string;
  close: () => Promise<void>;
  /** Takes a new, already validated declaration: HAProxy's structure, then the apps (leader only). */
  reload: (config: GlintConfig) => Promise<void>;
};

const VERSION = pkg.version;

async function etcdClient(config: GlintConfig): Promise<EtcdClient> {
  const { endpoints, prefix, username, password } = config.etcd;
  const auth = username && password ? { username, password: await readSecret(password) } : undefined;
  return connectEtcd({
    endpoints,
    prefix,
    ...(auth ? { auth } : {}),
    dialTimeoutMs: 5_000,
    callTimeoutMs: 2_000,
  });
}

/**
 * Several daemons may share one etcd: only the elected one will act; the others serve reads.
 * Not started here: a daemon campaigns only once it serves its API (see startDaemon).
 */
function createElection(config: GlintConfig, etcd: EtcdClient, log: Logger): LeaderElection {
  return new LeaderElection(etcd, {
    id: `${hostname()}-${process.pid}`,
    address: `http://${config.api.listen}`,
    ttlSeconds: Math.max(2, Math.round(config.etcd.leaseTtl / 1000)),
    logger: log,
  });
}

/** Listens with node's own server: Express 5 hands listen errors to the callback, which would look like success. */
function listen(api: ReturnType<typeof createApi>, listenAddress: string): Promise<Server> {
  const [host, port] = listenAddress.split(':') as [string, string];
  return new Promise((resolve, reject) => {
    const s = createApiServer(api);
    s.listen(Number(port), host, () => resolve(s));
    s.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new GlintError(
              'ListenAddressInUse',
              `${listenAddress} is in use; is another glint daemon running? Stop it or change api.listen`,
            )
          : err,
      );
    });
  });
}

/** The admin token and every `api.tokens` entry, values read from env or file (never logged). */
async function readTokens(config: GlintConfig, admin: AdminToken): Promise<TokenTable> {
  const declared = await Promise.all(
    config.api.tokens.map(async (t) => ({ name: t.name, role: t.role, token: await readSecret(t.token) })),
  );
  return new TokenTable([{ name: 'admin', role: 'admin', token: admin.token }, ...declared]);
}

/** What the API reads and drives: the engine, etcd's records and registry, the engines' containers. */
function apiState(
  rotations: RotationScheduler,
  config: () => GlintConfig,
  etcd: EtcdClient,
  wiring: RolloutWiring,
  reads: StateReadCache,
  healing: ApiState['healing'],
): ApiState {
  return {
    healing,
    apps: () => config().apps,
    control: wiring.engine,
    state: reads,
    changes: { next: (app, id, rev, signal) => nextDeploymentChange(etcd, app, id, rev, signal) },
    // An engine that does not answer leaves its instances out of the answer, not the answer out.
    instances: async (app) => {
      const perNode = await Promise.all(
        wiring.health
          .statuses()
          .filter((s) => s.state !== 'down')
          .map((s) =>
            wiring.nodes.listOn(s.node, app).catch((err: unknown) => {
              if (s.state === 'up') throw err;
              return [];
            }),
          ),
      );
      return perNode.flat();
    },
    ready: (app) => reads.ready(app),
    recordsVersion: () => reads.generation(),
    nextRotation: (app) => rotations.nextRun(app),
    nodes: async () => {
      const statuses = wiring.health.statuses();
      const listed = await Promise.all(
        statuses.map(async (s) => {
          if (s.state === 'down') return [s.node, undefined] as const;
          const containers = await wiring.nodes.listOn(s.node).catch(() => undefined);
          return [s.node, containers] as const;
        }),
      );
      return nodeViews(config().docker.endpoints, statuses, new Map(listed));
    },
    clock: { now: () => Date.now() },
  };
}

/**
 * Composition root: wires the adapters and the API, and owns their shutdown. What it has
 * acquired is released in reverse order when a later step fails, so a failed start leaves no
 * campaign, etcd connection or listening socket behind and the process can exit.
 */
export async function startDaemon(config: GlintConfig, log: Logger): Promise<Daemon> {
  const releases: Array<() => Promise<void> | void> = [];
  const releaseAll = async () => {
    for (const release of releases.splice(0).reverse()) {
      await Promise.resolve()
        .then(release)
        .catch((err) => log.warn({ err }, 'release during shutdown failed'));
    }
  };
  try {
    const reload = await startInto(config, log, releases);
    return { url: `http://${config.api.listen}`, close: releaseAll, reload };
  } catch (err) {
    await releaseAll();
    throw err;
  }
}

async function startInto(
  initial: GlintConfig,
  log: Logger,
  releases: Array<() => Promise<void> | void>,
): Promise<Daemon['reload']> {
  let config = initial;
  const docker = engineFor(config.docker.endpoints[0]!);
  const etcd = await etcdClient(config);
  releases.push(() => etcd.close());
  const election = createElection(config, etcd, log);
  const serviceAddresses = await serviceAddressesOf(config.docker.endpoints, log);
  const structureOf = (c: GlintConfig) =>
    structureFromConfig(c, process.cwd(), [...serviceAddresses.values()]);
  const { lb, haproxyRunning } = await connectLoadBalancer(structureOf(config), {
    container: config.haproxy.container,
    exec: (container, command, signal) => new DockerRuntime(docker).exec(container, command, { signal }),
    logger: log.child({ component: 'lb' }),
  });
  if (haproxyRunning)
    log.info({ apps: lb.model.apps.map((a) => a.name) }, 'HAProxy serves the declared apps');
  else
    log.warn(
      { runDir: lb.paths.config },
      'HAProxy is not running; wrote its config (npm run stack:up starts it)',
    );
  const admin = await resolveAdminToken(config.api.tokenFile);
  log.info(
    { source: admin.source, file: admin.source === 'env' ? undefined : config.api.tokenFile },
    'admin API token ready',
  );

  const readiness: ReadinessCheck[] = [
    { name: 'docker', check: (signal) => docker.ping(signal) },
    { name: 'haproxy', check: async (signal) => void (await lb.master.showProc({ signal })) },
    {
      name: 'etcd',
      check: (signal) => untilAborted(etcd.get(etcd.keys.leader()), signal, 'etcd did not answer in time'),
    },
  ];

  let tokens = await readTokens(config, admin);
  log.info({ callers: config.api.tokens.map((t) => `${t.name} (${t.role})`) }, 'API callers ready');
  const wiring = await wireRollout({ config: () => config, etcd, lb, election, log, serviceAddresses });
  const { engine } = wiring;
  const enforcedAt = new Map<string, number>();
  const metrics = new GlintMetrics({
    isLeader: () => election.isLeader(),
    readyInstances: async () =>
      Object.fromEntries(
        await Promise.all(
          Object.keys(config.apps).map(
            async (app) => [app, (await wiring.registry.list(app)).length] as const,
          ),
        ),
      ),
    reconcileLag: () =>
      Object.fromEntries([...enforcedAt].map(([app, at]) => [app, (Date.now() - at) / 1000])),
  });
  engine.events.on('deployment:finished', (r) => metrics.deploymentEnded(r));
  // Cron and maxAge rotations, run by the leader only; each slot is taken once in etcd.
  const rotations = new RotationScheduler({
    apps: () => config.apps,
    // An engine that does not answer leaves its instances out of the answer, not the answer out.
    instances: async (app) => {
      const perNode = await Promise.all(
        wiring.health
          .statuses()
          .filter((s) => s.state !== 'down')
          .map((s) =>
            wiring.nodes.listOn(s.node, app).catch((err: unknown) => {
              if (s.state === 'up') throw err;
              return [];
            }),
          ),
      );
      return perNode.flat();
    },
    startDeployment: (app, request) => engine.startDeployment(app, request),
    store: new EtcdRotationStore(etcd, { guard: () => election.guard('recording a rotation') }),
    clock: { now: () => Date.now() },
    log: log.child({ component: 'rotation' }),
    onRun: (app, run) => engine.events.emit(`rotation:${run.outcome}`, { app, ...run }),
  });
  // Heals what dies or drifts between deployments, in the leader only.
  const reconcile = wireReconciler({
    config: () => config,
    etcd,
    lb,
    wiring,
    log,
    onPass: (pass) => {
      metrics.reconcilePass(pass.ms / 1000);
      for (const a of pass.actions) enforcedAt.set(a.app, Date.now());
    },
  });
  const shutdown = new AbortController();
  // The API reads records from memory, forgotten as etcd reports each change.
  const store = new EtcdStateStore(etcd);
  const reads = new StateReadCache(
    etcd,
    {
      getApp: (app) => store.getApp(app),
      getDeployment: (app, id) => store.getDeployment(app, id),
      activeDeployment: (app) => store.activeDeployment(app),
      listDeployments: (app, opts) => store.listDeployments(app, opts),
      ready: (app) => wiring.registry.list(app),
    },
    log.child({ component: 'api' }),
  );
  await reads.start();
  releases.push(() => reads.stop());
  // Only the leader's engine emits: while this daemon follows, its event stream is read back
  // from the records the leader writes.
  const followerEvents = new FollowerEventFeed(etcd, log);
  releases.push(() => followerEvents.stop());
  const api = createApi({
    log: log.child({ component: 'api' }),
    readiness,
    version: VERSION,
    leadership: () => ({ isLeader: election.isLeader(), leader: election.knownLeader()?.address ?? null }),
    tokens: () => tokens,
    state: apiState(
      rotations,
      () => config,
      etcd,
      wiring,
      reads,
      (app) => (election.isLeader() ? (reconcile.reconciler.healing(app) ?? null) : null),
    ),
    shutdown: shutdown.signal,
    metrics,
    eventSources: [followerEvents.events],
  });
  const server = await listen(api, config.api.listen);
  // Streams and long polls end first, so closing the server never waits on them.
  releases.push(() => {
    shutdown.abort();
    return closeApiServer(server);
  });
  log.info({ url: `http://${config.api.listen}` }, 'API listening');
  // Apps whose declaration could not be applied because a deployment held them (a heal, an API
  // deploy): applied again when that deployment ends, so a SIGHUP is never lost.
  const enforceAfter = new Set<string>();
  const enforce = (): Promise<void> =>
    engine
      .enforceDeclaration()
      .then((results) => {
        for (const r of results) {
          log.info({ app: r.app, action: r.action }, r.detail);
          if (r.action !== 'error') enforcedAt.set(r.app, Date.now());
          if (r.action === 'busy') enforceAfter.add(r.app);
          else enforceAfter.delete(r.app);
        }
      })
      .catch((err) => log.error({ err }, 'could not bring the apps to their declaration'));
  engine.events.on('deployment:finished', (r) => {
    if (enforceAfter.delete(r.app) && election.isLeader()) void enforce();
  });
  // Rotations begin once the declaration is enforced, so a missed slot's catch-up does not
  // collide with the declaration's own deployments.
  // Not leading until the campaign below is won.
  followerEvents.start();
  // What a lost leadership is still winding down: a daemon elected again waits for it, so a
  // part that was stopping is never started twice or left stopped.
  let windingDown: Promise<unknown> = Promise.resolve();
  election.on('elected', () => {
    void followerEvents.stop();
    void windingDown
      .then(() => enforce())
      .then(async () => {
        if (!election.isLeader()) return;
        rotations.start();
        wiring.configRollouts.start().catch((err) => log.error({ err }, 'config changes are not watched'));
        await reconcile
          .start()
          .catch((err) =>
            log.error({ err }, 'the reconciler did not start; healing waits for the next election'),
          );
      });
  });
  election.on('deposed', (reason) => {
    const stopped = [reconcile.stop(), rotations.stop(), wiring.configRollouts.stop(), engine.stop()];
    windingDown = Promise.allSettled(stopped);
    // A daemon that stops ('stopped') is not going to follow: its feed is released right after.
    if (reason !== 'stopped') followerEvents.start();
  });
  // Placement needs each engine's state: the first pings end before this daemon may lead.
  await wiring.health.start();
  releases.push(() => wiring.health.stop());
  wiring.health.on('change', (node, status) => {
    log.debug({ node, state: status.state }, 'node state changed; reconciling');
    if (election.isLeader()) reconcile.reconciler.poke();
  });
  // Campaign last: a daemon that leads always serves its API.
  election.start();
  releases.push(() => election.stop());
  releases.push(() => engine.stop());
  releases.push(() => rotations.stop());
  releases.push(() => reconcile.stop());
  releases.push(() => wiring.configRollouts.stop());
  return async (next) => {
    // Read first: a token whose secret is missing refuses the whole new declaration.
    const nextTokens = await readTokens(next, admin);
    await lb.applyStructure(structureOf(next));
    config = next;
    tokens = nextTokens;
    log.info({ apps: Object.keys(next.apps) }, 'declaration reloaded');
    rotations.reload();
    wiring.configRollouts.reload();
    if (election.isLeader()) await enforce();
  };
}
