import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AppConfigInput, type GlintConfig, validateConfig } from '../../src/config/index.ts';
import {
  type AddressMode,
  DockerEngine,
  DockerNodes,
  discoverServiceAddress,
  type HostPortRange,
  RegistryAuthenticator,
  RegistryClient,
} from '../../src/docker/index.ts';
import {
  connectEtcd,
  type DeploymentRecord,
  type EtcdClient,
  EtcdServiceRegistry,
  EtcdStateStore,
  type ServiceEntry,
} from '../../src/etcd/index.ts';
import {
  connectLoadBalancer,
  type HaproxyLoadBalancer,
  LocalBinaryValidator,
  structureFromConfig,
} from '../../src/lb/index.ts';
import { silentLogger } from '../../src/log/index.ts';
import { AppReleases, RolloutEngine } from '../../src/rollout/index.ts';
import { removeTestContainers } from './cleanup.ts';
import { type DemoRegistry, pushDemoVersion, startDemoRegistry } from './demo-registry.ts';
import { startEtcd } from './etcd-container.ts';
import { freePort } from './free-port.ts';
import { startHaproxy } from './haproxy-container.ts';
import { testLabels, testRunId } from './labels.ts';
import { waitFor } from './wait-for.ts';

export type RolloutStack = {
  config: GlintConfig;
  engine: RolloutEngine;
  etcd: EtcdClient;
  lb: HaproxyLoadBalancer;
  nodes: DockerNodes;
  registry: DemoRegistry;
  frontendPort: number;
  /** Pushes demo-app `version` to the stack's registry. */
  push(version: string): Promise<void>;
  /** Waits until the deployment reaches a finished state, and returns it. */
  finished(app: string, id: string, timeoutMs?: number): Promise<DeploymentRecord>;
  waitState(
    app: string,
    id: string,
    state: DeploymentRecord['state'],
    timeoutMs?: number,
  ): Promise<DeploymentRecord>;
  registered(app: string): Promise<ServiceEntry[]>;
  close(): Promise<void>;
};

const FINISHED = new Set(['succeeded', 'failed', 'rolled_back', 'cancelled']);

/**
 * Everything the rollout engine acts on, real: etcd, a registry holding demo-app versions,
 * HAProxy in master-worker mode and the local Docker engine. Containers carry the suite's test
 * labels (the engine adds them to every instance), so teardown removes exactly these.
 */
export async function startRolloutStack(
  suite: string,
  app: (frontendPort: number) => AppConfigInput,
  /** The app's name; default `web`. */
  name = 'web',
  /** More apps beside it, e.g. one that its env references; their image is the stack's too. */
  others: Record<string, AppConfigInput> = {},
  opts: {
    /** An etcd the caller runs (a cluster's members); default: one etcd container of the suite's. */
    etcdEndpoints?: string[];
    /** How the engine's instances are reached: a published port (default) or their container IP. */
    addressMode?: AddressMode;
    /** The ports instances of apps in the host's network are given (DockerNode.hostPorts). */
    hostPorts?: HostPortRange;
  } = {},
): Promise<RolloutStack> {
  const { etcdEndpoints, addressMode = 'host', hostPorts } = opts;
  const runDir = mkdtempSync(join(tmpdir(), 'rs-'));
  let engine: RolloutEngine | undefined;
  let etcd: EtcdClient | undefined;
  let serviceRegistry: EtcdServiceRegistry | undefined;
  const close = async () => {
    await engine?.stop();
    // Its lease's keepalive would hold the process open after everything else ended.
    await serviceRegistry?.close();
    etcd?.close();
    await removeTestContainers({ runId: testRunId(), suite });
    rmSync(runDir, { recursive: true, force: true });
  };
  try {
    const endpoints = etcdEndpoints ?? [(await startEtcd(suite)).endpoint];
    const registry = await startDemoRegistry(suite);
    const frontendPort = await freePort();
    const parsed = validateConfig({
      etcd: { endpoints },
      registries: { [registry.host]: { insecure: true } },
      haproxy: { runDir },
      apps: Object.fromEntries(
        Object.entries({ ...others, [name]: app(frontendPort) }).map(([appName, a]) => [
          appName,
          { ...a, image: `${registry.host}/demo-app` },
        ]),
      ),
    });
    if (!parsed.ok) throw new Error(`test declaration is invalid: ${JSON.stringify(parsed.issues)}`);
    const config = parsed.config;
    const docker = new DockerEngine();
    const serviceAddress = await discoverServiceAddress(docker, 'local');
    const structure = structureFromConfig(config, process.cwd(), [serviceAddress]);
    const { lb } = await connectLoadBalancer(structure, {
      logger: silentLogger(),
      validator: new LocalBinaryValidator(),
    });
    // Removed with the suite's containers in close().
    await startHaproxy(suite, runDir);
    etcd = await connectEtcd({ endpoints, prefix: '/glint' });
    // Its own containers only: other suites on this engine may run an app named web too.
    const nodes = new DockerNodes(
      [{ name: 'local', engine: docker, hostIp: '127.0.0.1', addressMode, hostPorts, serviceAddress }],
      { scope: testLabels(suite) },
    );
    const store = new EtcdStateStore(etcd);
    serviceRegistry = new EtcdServiceRegistry(etcd);
    engine = new RolloutEngine({
      apps: () => config.apps,
      runtime: nodes,
      lb,
      registry: serviceRegistry,
      store,
      releases: new AppReleases({
        apps: () => config.apps,
        registry: new RegistryClient({
          authenticator: new RegistryAuthenticator(),
          plainHttpHosts: [registry.host],
        }),
        etcd,
        hostIpOf: (n) => nodes.hostIpOf(n),
        serviceAddressOf: (n) => nodes.serviceAddressOf(n),
        defaultNode: 'local',
        extraLabels: testLabels(suite),
      }),
      clock: { now: () => Date.now() },
      log: silentLogger(),
    });
    const e = engine;
    const waitState = (name: string, id: string, state: DeploymentRecord['state'], timeoutMs = 240_000) =>
      waitFor(
        async () => {
          const r = await e.get(name, id);
          return r.state === state ? r : undefined;
        },
        { what: `deployment ${id} ${state}`, timeoutMs },
      );
    return {
      config,
      engine: e,
      etcd,
      lb,
      nodes,
      registry,
      frontendPort,
      push: async (version) => void (await pushDemoVersion(registry, 'demo-app', version)),
      finished: (name, id, timeoutMs = 240_000) =>
        waitFor(
          async () => {
            const r = await e.get(name, id);
            return FINISHED.has(r.state) ? r : undefined;
          },
          { what: `deployment ${id} to finish`, timeoutMs },
        ),
      waitState,
      registered: (name) => new EtcdServiceRegistry(etcd!).list(name),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
