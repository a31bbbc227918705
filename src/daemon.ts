import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import pkg from '../package.json' with { type: 'json' };
import { createApi, type ReadinessCheck, untilAborted } from './api/index.ts';
import { type GlintConfig, readRegistryAccess, readSecret, resolveAdminToken } from './config/index.ts';
import {
  DockerEngine,
  DockerRuntime,
  RegistryAuthenticator,
  RegistryClient,
  resolveImage,
} from './docker/index.ts';
import { GlintError } from './errors/index.ts';
import { connectEtcd, type EtcdClient, LeaderElection } from './etcd/index.ts';
import { connectLoadBalancer, structureFromConfig } from './lb/index.ts';
import type { Logger } from './log/index.ts';

export type Daemon = { url: string; close: () => Promise<void> };

const VERSION = pkg.version;

function dockerEngine(config: GlintConfig): DockerEngine {
  const endpoint = config.docker.endpoints[0]!;
  if (endpoint.url) {
    const url = new URL(endpoint.url);
    return new DockerEngine({
      host: url.hostname,
      port: Number(url.port || 2375),
      protocol: url.protocol === 'https:' ? 'https' : 'http',
    });
  }
  return new DockerEngine({ socketPath: endpoint.socketPath ?? '/var/run/docker.sock' });
}

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
    const s = createServer(api);
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

async function closeServer(server: Server): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
}

/**
 * Says what the daemon manages: per app the declared shape, the image the declared version
 * resolves to (digest and stamp, checked against the registry), and the instances running now.
 * A registry that can't answer is a warning here, not a reason to stop serving.
 */
async function describeApps(config: GlintConfig, docker: DockerEngine, log: Logger): Promise<void> {
  const access = await readRegistryAccess(config);
  const registry = new RegistryClient({
    authenticator: new RegistryAuthenticator(access.credentials),
    plainHttpHosts: access.plainHttpHosts,
    timeoutMs: 5_000,
  });
  const runtime = new DockerRuntime(docker, { logger: log });
  for (const [name, app] of Object.entries(config.apps)) {
    const scope = log.child({ app: name });
    const route = app.routing.frontendPort
      ? `${app.routing.bind}:${app.routing.frontendPort}`
      : app.routing.hosts.join(', ') || 'no route';
    scope.info(
      {
        image: app.image,
        version: app.version,
        instances: app.instances,
        health: app.health.type === 'http' ? `http ${app.health.path}` : app.health.type,
        route,
        strategy: { maxSurge: app.strategy.maxSurge, maxUnavailable: app.strategy.maxUnavailable },
        rotation: { cron: app.rotation.cron, maxAge: app.rotation.maxAge },
      },
      'managing app',
    );
    try {
      const image = await resolveImage(registry, {
        repository: app.image,
        requested: app.version,
        allowPrerelease: app.allowPrerelease,
        requireStamp: app.requireStamp,
      });
      scope.info(
        { ref: image.ref, version: image.version, revision: image.revision },
        'declared version resolves to',
      );
    } catch (err) {
      const e =
        err instanceof GlintError ? { code: err.code, message: err.message } : { message: String(err) };
      scope.warn(e, 'declared version cannot be resolved yet');
    }
    const running = await runtime.list({ app: name });
    scope.info({ containers: running.map((c) => `${c.name} ${c.version} ${c.state}`) }, 'instances now');
  }
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
    await startInto(config, log, releases);
  } catch (err) {
    await releaseAll();
    throw err;
  }
  return { url: `http://${config.api.listen}`, close: releaseAll };
}

async function startInto(
  config: GlintConfig,
  log: Logger,
  releases: Array<() => Promise<void> | void>,
): Promise<void> {
  const docker = dockerEngine(config);
  const etcd = await etcdClient(config);
  releases.push(() => etcd.close());
  const election = createElection(config, etcd, log);
  const { lb, haproxyRunning } = await connectLoadBalancer(structureFromConfig(config, process.cwd()), {
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

  const api = createApi({
    log,
    readiness,
    version: VERSION,
    leadership: () => ({ isLeader: election.isLeader(), leader: election.knownLeader()?.address ?? null }),
  });
  const server = await listen(api, config.api.listen);
  releases.push(() => closeServer(server));
  log.info({ url: `http://${config.api.listen}` }, 'API listening');
  // Campaign last: a daemon that leads always serves its API.
  election.start();
  releases.push(() => election.stop());
  await describeApps(config, docker, log).catch((err) => log.warn({ err }, 'could not describe apps'));
}
