import type Dockerode from 'dockerode';
import { GlintError, TransientError } from '../errors/index.ts';
import { type HealthCheck, type ProbeResult, runProbe } from '../health/index.ts';
import type { Logger } from '../log/index.ts';
import { silentLogger } from '../log/index.ts';
import { DockerRuntime } from './docker-runtime.ts';
import { type DockerEngine, dockerodeOf } from './engine.ts';
import { translateEngineError } from './engine-errors.ts';
import { DockerErrorCode } from './error-codes.ts';
import { listedAddress } from './instance-address.ts';
import { type AddressMode, GLINT_LABELS, type InstanceSpec } from './instance-spec.ts';
import { DEFAULT_HOST_PORTS, type HostPortRange, pickHostPort } from './pick-host-port.ts';
import { pullImage } from './pull-image.ts';
import type { RegistryCredentials } from './registry-auth.ts';

/**
 * One Docker engine glint places instances on: where its instances publish their ports
 * (`hostIp`) and where its containers reach HAProxy (`serviceAddress`, known to them as `glint-lb`).
 */
export type DockerNode = {
  name: string;
  engine: DockerEngine;
  hostIp: string;
  /** How its instances are reached (InstanceSpec.addressMode); default `host`. */
  addressMode?: AddressMode;
  /** The ports handed to instances in the host's network; default DEFAULT_HOST_PORTS. */
  hostPorts?: HostPortRange | undefined;
  serviceAddress: string;
  /** What placement constraints match (`zone=a`). */
  labels?: Readonly<Record<string, string>>;
  /** The most running glint containers (of every app) placed here; unset, no bound. */
  capacity?: number | undefined;
  /**
   * How long listing may take on this engine. A remote engine behind a cut link never answers
   * a kept-alive connection (the kernel retransmits for minutes), so it needs one; a local
   * socket that is slow is busy, not lost, and gets none.
   */
  listTimeoutMs?: number | undefined;
};

/** As node health sees an engine; `down` engines' containers count as lost. */
export type EngineState = 'up' | 'unreachable' | 'down';

type Call = { signal?: AbortSignal };

/** A glint container from one list call: no inspect per container, so a tick stays cheap. */
export type NodeContainer = {
  app: string;
  instance: string;
  node: string;
  containerId: string;
  specHash: string;
  version: string;
  createdAt: number;
  running: boolean;
  /** The env it was started with, from its labels: fingerprint and etcd revision it was read at. */
  envFingerprint?: string;
  configRevision?: number;
  exit?: string;
  host?: string;
  port?: number;
};

/**
 * The engines instances run on, by name. Every call names its node; listing asks each node
 * once. Containers are made only from digests, and only glint's own are stopped or removed.
 */
export class DockerNodes {
  readonly #nodes = new Map<string, DockerNode & { runtime: DockerRuntime }>();
  readonly #credentials: RegistryCredentials;
  readonly #log: Logger;
  readonly #scope: string[];
  readonly #state: (node: string) => EngineState;
  /** Host ports picked for launches not yet created, per node: two launches never share one. */
  readonly #pickedPorts = new Map<string, Set<number>>();

  /**
   * `scope`: labels a container must carry to be listed, beyond glint's own and the app's, so
   * that two users of one engine with the same app name (two test suites side by side) never
   * take each other's containers. The specs this runtime launches must carry them too.
   */
  constructor(
    nodes: DockerNode[],
    opts: {
      credentials?: RegistryCredentials;
      logger?: Logger;
      scope?: Record<string, string>;
      /**
       * Each engine's state from node health. `down` engines (unanswered for the declared
       * period) are skipped by listing, so their instances count as gone and are replaced on
       * the others; only `up` engines get new instances. Default: every engine is up.
       */
      state?: (node: string) => EngineState;
    } = {},
  ) {
    this.#state = opts.state ?? (() => 'up');
    this.#log = opts.logger ?? silentLogger();
    this.#scope = Object.entries(opts.scope ?? {}).map(([k, v]) => `${k}=${v}`);
    this.#credentials = opts.credentials ?? {};
    for (const n of nodes)
      this.#nodes.set(n.name, { ...n, runtime: new DockerRuntime(n.engine, { logger: this.#log }) });
  }

  nodes(): string[] {
    return [...this.#nodes.keys()];
  }

  hostIpOf(node: string): string {
    return this.#node(node).hostIp;
  }

  serviceAddressOf(node: string): string {
    return this.#node(node).serviceAddress;
  }

  /**
   * Every engine as placement weighs it: its state, labels and capacity, and how many running
   * glint containers it holds, of every app and of `app` (one list call per engine that is not
   * down). The counts decide nothing for a single engine without a capacity (one host): there
   * they are left at 0 and nothing is listed, so a start reaches Docker a round trip sooner.
   */
  async placementNodes(app: string, call: Call = {}) {
    const nodes = [...this.#nodes.values()];
    const counted = nodes.length > 1 || nodes.some((n) => n.capacity !== undefined);
    const running = counted ? (await this.list(undefined, call)).filter((c) => c.running) : [];
    return nodes.map((n) => {
      const here = running.filter((c) => c.node === n.name);
      return {
        name: n.name,
        labels: n.labels ?? {},
        capacity: n.capacity,
        up: this.#state(n.name) === 'up',
        containers: here.length,
        appInstances: here.filter((c) => c.app === app).length,
      };
    });
  }

  /** Resolves when the engine answers. */
  ping(node: string, signal: AbortSignal): Promise<void> {
    return this.#node(node).engine.ping(signal);
  }

  /**
   * glint's containers of `app`, or of every app when none is named: one call per engine. An
   * engine that does not answer fails the whole list (a partial one would look like lost
   * instances), unless it is lost: then it is left out.
   */
  async list(app?: string, call: Call = {}): Promise<NodeContainer[]> {
    const perNode = await Promise.all(
      [...this.#nodes.keys()].map((node) =>
        this.#state(node) === 'down' ? [] : this.listOn(node, app, call),
      ),
    );
    return perNode.flat();
  }

  /** glint's containers on one engine, of `app` or of every app; down or not, it is asked. */
  async listOn(node: string, app?: string, call: Call = {}): Promise<NodeContainer[]> {
    const n = this.#node(node);
    const what = `listing containers of ${app ?? 'every app'} on node ${n.name}`;
    // A controller of our own, not AbortSignal.any: that one keeps a reference from the
    // deployment's long-lived signal for every call.
    const controller = new AbortController();
    const forward = () => controller.abort(call.signal?.reason);
    call.signal?.addEventListener('abort', forward, { once: true });
    let timedOut = false;
    const timer =
      n.listTimeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            controller.abort(new Error(`no answer within ${n.listTimeoutMs}ms`));
          }, n.listTimeoutMs);
    try {
      const summaries = await dockerodeOf(n.engine).listContainers({
        all: true,
        filters: {
          label: [
            `${GLINT_LABELS.managed}=true`,
            ...(app === undefined ? [] : [`${GLINT_LABELS.app}=${app}`]),
            ...this.#scope,
          ],
        },
        abortSignal: controller.signal,
      } as Dockerode.ContainerListOptions);
      return summaries.map((s) =>
        fromSummary(n.name, s, { addressMode: n.addressMode ?? 'host', hostIp: n.hostIp }),
      );
    } catch (err) {
      if (timedOut)
        throw new TransientError(
          DockerErrorCode.EngineUnreachable,
          `${what}: the Docker engine did not answer within ${n.listTimeoutMs}ms`,
          { cause: err },
        );
      throw translateEngineError(err, what);
    } finally {
      clearTimeout(timer);
      call.signal?.removeEventListener('abort', forward);
    }
  }

  /**
   * Pull (when missing), create, start, and read where it is reached: the published port, in
   * `container` mode its IP, or for an app in the host's network the host port picked for it.
   * The node decides the mode: it knows whether HAProxy's machine routes to its bridge network.
   */
  async launch(node: string, given: InstanceSpec, call: Call = {}) {
    const n = this.#node(node);
    const mode = n.addressMode ?? 'host';
    // The port is read while the image is checked: two round trips to the engine at once.
    const picking = given.network === 'host' ? this.#pickHostPort(n, call) : undefined;
    picking?.catch(() => undefined);
    try {
      await pullImage(n.engine, given.image.ref, {
        credentials: this.#credentials,
        logger: this.#log.child({ node }),
        ...call,
      });
    } catch (err) {
      void picking?.then(
        (p) => p.release(),
        () => undefined,
      );
      throw onEngine(node, err);
    }
    const picked = await picking;
    let id: string;
    try {
      const spec: InstanceSpec = {
        ...given,
        addressMode: mode,
        ...(picked ? { hostPort: picked.port } : {}),
      };
      ({ id } = await n.runtime.create(spec, call));
    } finally {
      // Created, the container holds its port by its label; not created, nothing holds it.
      picked?.release();
    }
    try {
      await n.runtime.start(id, call);
      if (picked) return { containerId: id, host: n.hostIp, port: picked.port };
      if (mode === 'container')
        return { containerId: id, host: await n.runtime.containerIp(id, call), port: given.containerPort };
      const port = await n.runtime.hostPort(id, given.containerPort, call);
      return { containerId: id, host: n.hostIp, port };
    } catch (err) {
      await n.runtime.remove(id, { force: true }).catch(() => undefined);
      throw err;
    }
  }

  /**
   * A host port no glint container on the engine holds, of any app or user (the host's ports
   * are one space): read from their labels, with the ports of launches still creating.
   */
  async #pickHostPort(n: DockerNode, call: Call): Promise<{ port: number; release: () => void }> {
    const summaries = await dockerodeOf(n.engine)
      .listContainers({
        all: true,
        filters: { label: [`${GLINT_LABELS.managed}=true`, GLINT_LABELS.port] },
        abortSignal: call.signal,
      } as Dockerode.ContainerListOptions)
      .catch((err: unknown) => {
        throw translateEngineError(err, `listing the host ports in use on node ${n.name}`);
      });
    const picking = this.#pickedPorts.get(n.name) ?? new Set<number>();
    this.#pickedPorts.set(n.name, picking);
    const taken = new Set(picking);
    for (const s of summaries)
      if (s.HostConfig?.NetworkMode === 'host') taken.add(Number(s.Labels?.[GLINT_LABELS.port]));
    const range = n.hostPorts ?? DEFAULT_HOST_PORTS;
    const port = pickHostPort(taken, range, Math.random);
    if (port === undefined)
      throw new GlintError(
        DockerErrorCode.HostPortsExhausted,
        `every host port ${range.min}-${range.max} on docker endpoint ${n.name} is held by an instance in the host's network; widen the endpoint's hostPorts or place fewer instances there`,
        { details: { node: n.name, ...range } },
      );
    picking.add(port);
    return { port, release: () => picking.delete(port) };
  }

  async stopAndRemove(node: string, containerId: string, timeoutMs: number, call: Call = {}): Promise<void> {
    const { runtime } = this.#node(node);
    await runtime.stop(containerId, { ...call, timeoutMs });
    await runtime.remove(containerId, { ...call, force: true });
  }

  /** The last `lines` lines of the container's output (stdout and stderr). */
  async logTail(node: string, containerId: string, lines: number): Promise<string[]> {
    const docker = dockerodeOf(this.#node(node).engine);
    const raw = (await docker
      .getContainer(containerId)
      .logs({ stdout: true, stderr: true, tail: lines, follow: false })) as Buffer;
    return demuxText(raw)
      .split('\n')
      .filter((l) => l.trim() !== '')
      .slice(-lines);
  }

  probe(
    node: string,
    check: HealthCheck,
    target: { containerId: string; host: string; port: number },
    call: Call = {},
  ): Promise<ProbeResult> {
    return runProbe(check, target, { runtime: this.#node(node).runtime, ...call });
  }

  #node(name: string) {
    const n = this.#nodes.get(name);
    if (!n)
      throw new GlintError(DockerErrorCode.UnknownNode, `no Docker endpoint named ${name} is declared`, {
        details: { node: name },
      });
    return n;
  }
}

function fromSummary(
  node: string,
  s: Dockerode.ContainerInfo,
  reached: { addressMode: AddressMode; hostIp: string },
): NodeContainer {
  const labels = s.Labels ?? {};
  const address = listedAddress(s, reached);
  const exited = /Exited \((\d+)\)/.exec(s.Status ?? '');
  const envFingerprint = labels[GLINT_LABELS.envFingerprint];
  const configRevision = Number(labels[GLINT_LABELS.configRevision]);
  return {
    app: labels[GLINT_LABELS.app] ?? '',
    instance: labels[GLINT_LABELS.instance] ?? '',
    node,
    containerId: s.Id,
    specHash: labels[GLINT_LABELS.spec] ?? '',
    version: labels[GLINT_LABELS.version] ?? '',
    createdAt: s.Created * 1000,
    running: s.State === 'running',
    ...(envFingerprint ? { envFingerprint } : {}),
    ...(Number.isInteger(configRevision) && labels[GLINT_LABELS.configRevision] ? { configRevision } : {}),
    ...(s.State === 'running'
      ? {}
      : { exit: exited ? `exited with code ${exited[1]}` : `container is ${s.State}` }),
    ...(address ?? {}),
  };
}

/** Docker's multiplexed log stream (8-byte frame headers) as text; a TTY stream passes as is. */
function demuxText(raw: Buffer): string {
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 8 <= raw.length && (raw[at] === 1 || raw[at] === 2) && raw[at + 1] === 0) {
    const size = raw.readUInt32BE(at + 4);
    parts.push(raw.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return (at === 0 ? raw : Buffer.concat(parts)).toString('utf8');
}

/** A pull failure says which engine it happened on: each engine pulls for itself. */
function onEngine(node: string, err: unknown): unknown {
  if (!(err instanceof GlintError)) return err;
  const Kind = err instanceof TransientError ? TransientError : GlintError;
  return new Kind(err.code, `on docker endpoint ${node}: ${err.message}`, {
    cause: err,
    details: { ...err.details, node },
  });
}
