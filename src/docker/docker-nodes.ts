import type Dockerode from 'dockerode';
import { GlintError } from '../errors/index.ts';
import { type HealthCheck, type ProbeResult, runProbe } from '../health/index.ts';
import type { Logger } from '../log/index.ts';
import { silentLogger } from '../log/index.ts';
import { DockerRuntime } from './docker-runtime.ts';
import { type DockerEngine, dockerodeOf } from './engine.ts';
import { translateEngineError } from './engine-errors.ts';
import { DockerErrorCode } from './error-codes.ts';
import { GLINT_LABELS, type InstanceSpec } from './instance-spec.ts';
import { pullImage } from './pull-image.ts';
import type { RegistryCredentials } from './registry-auth.ts';

/**
 * One Docker engine glint places instances on: where its instances publish their ports
 * (`hostIp`) and where its containers reach HAProxy (`serviceAddress`, known to them as `glint-lb`).
 */
export type DockerNode = { name: string; engine: DockerEngine; hostIp: string; serviceAddress: string };

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

  /**
   * `scope`: labels a container must carry to be listed, beyond glint's own and the app's, so
   * that two users of one engine with the same app name (two test suites side by side) never
   * take each other's containers. The specs this runtime launches must carry them too.
   */
  constructor(
    nodes: DockerNode[],
    opts: { credentials?: RegistryCredentials; logger?: Logger; scope?: Record<string, string> } = {},
  ) {
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

  /** glint's containers of `app`, or of every app when none is named: one call per engine. */
  async list(app?: string, call: Call = {}): Promise<NodeContainer[]> {
    const perNode = await Promise.all(
      [...this.#nodes.values()].map(async (n) => {
        const docker = dockerodeOf(n.engine);
        try {
          const summaries = await docker.listContainers({
            all: true,
            filters: {
              label: [
                `${GLINT_LABELS.managed}=true`,
                ...(app === undefined ? [] : [`${GLINT_LABELS.app}=${app}`]),
                ...this.#scope,
              ],
            },
            abortSignal: call.signal,
          } as Dockerode.ContainerListOptions);
          return summaries.map((s) => fromSummary(n.name, s));
        } catch (err) {
          throw translateEngineError(err, `listing containers of ${app ?? 'every app'} on node ${n.name}`);
        }
      }),
    );
    return perNode.flat();
  }

  /** Pull (when missing), create, start, and read the published port. */
  async launch(node: string, spec: InstanceSpec, call: Call = {}) {
    const n = this.#node(node);
    await pullImage(n.engine, spec.image.ref, {
      credentials: this.#credentials,
      logger: this.#log.child({ node }),
      ...call,
    });
    const { id } = await n.runtime.create(spec, call);
    try {
      await n.runtime.start(id, call);
      const port = await n.runtime.hostPort(id, spec.containerPort, call);
      return { containerId: id, host: spec.hostIp, port };
    } catch (err) {
      await n.runtime.remove(id, { force: true }).catch(() => undefined);
      throw err;
    }
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

function fromSummary(node: string, s: Dockerode.ContainerInfo): NodeContainer {
  const labels = s.Labels ?? {};
  const published = s.Ports?.find((p) => p.PublicPort && p.Type === 'tcp');
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
    ...(published ? { host: published.IP, port: published.PublicPort } : {}),
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
