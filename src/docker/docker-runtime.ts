import type Dockerode from 'dockerode';
import { GlintError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import { silentLogger } from '../log/index.ts';
import { sleep } from '../time/index.ts';
import { buildCreateOptions } from './create-options.ts';
import { type DockerEngine, dockerodeOf } from './engine.ts';
import { isNotFound, isRemovalInProgress, translateEngineError } from './engine-errors.ts';
import { DockerErrorCode } from './error-codes.ts';
import { type ExecResult, execInContainer } from './exec-in-container.ts';
import { networkIp } from './instance-address.ts';
import { GLINT_LABELS, type InstanceSpec } from './instance-spec.ts';
import { type ObservedContainer, toObservedContainer } from './observed-container.ts';

export type Call = { signal?: AbortSignal };
export type ListFilter = {
  app?: string;
  /** Extra label equality filters, e.g. `{ 'glint.deployment': 'd-1' }`. */
  labels?: Record<string, string>;
  /** Include stopped containers (default true: a dead instance must be seen to be healed). */
  all?: boolean;
};

const HTTP_NOT_MODIFIED = 304;
/** How long a remove waits for the engine's own removal of the container, begun by an earlier call. */
const REMOVAL_WAIT_MS = 60_000;

/**
 * glint's hand on one Docker engine: create, start, stop, remove, inspect and list the
 * containers glint owns. Only containers labelled glint.managed=true are ever stopped or
 * removed. Engine failures come out as GlintErrors; nothing of dockerode leaks out.
 */
export class DockerRuntime {
  readonly #engine: DockerEngine;
  readonly #docker: Dockerode;
  readonly #logger: Logger;

  constructor(engine: DockerEngine, opts: { logger?: Logger } = {}) {
    this.#engine = engine;
    this.#docker = dockerodeOf(engine);
    this.#logger = opts.logger ?? silentLogger();
  }

  /** Creates (does not start) the container of an instance; returns its id. */
  async create(spec: InstanceSpec, call: Call = {}): Promise<{ id: string; name: string }> {
    const options = buildCreateOptions(spec);
    try {
      const container = await this.#docker.createContainer({
        ...options,
        abortSignal: call.signal,
      } as typeof options);
      this.#logger.info(
        { app: spec.app, instance: spec.instance, containerId: container.id },
        'container created',
      );
      return { id: container.id, name: options.name! };
    } catch (err) {
      if (isNotFound(err)) {
        throw new GlintError(
          DockerErrorCode.ImageNotPresent,
          `cannot create ${options.name}: the engine does not have ${spec.image.ref}; pull it before creating the container`,
          { cause: err, details: { image: spec.image.ref } },
        );
      }
      throw translateEngineError(err, `creating container ${options.name} from ${spec.image.ref}`);
    }
  }

  async start(id: string, call: Call = {}): Promise<void> {
    try {
      await this.#docker.getContainer(id).start({ abortSignal: call.signal } as object);
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === HTTP_NOT_MODIFIED) return;
      throw translateEngineError(err, `starting container ${id}`);
    }
  }

  /** SIGTERM, then SIGKILL after `timeoutMs` (default: the container's own StopTimeout). */
  async stop(id: string, opts: Call & { timeoutMs?: number } = {}): Promise<void> {
    const observed = await this.#requireManaged(id, 'stop', opts.signal);
    if (observed?.state !== 'running') return;
    const t = opts.timeoutMs === undefined ? undefined : Math.max(0, Math.ceil(opts.timeoutMs / 1000));
    try {
      await this.#docker
        .getContainer(id)
        .stop({ ...(t === undefined ? {} : { t }), abortSignal: opts.signal } as object);
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === HTTP_NOT_MODIFIED || isNotFound(err)) return;
      throw translateEngineError(err, `stopping container ${observed.name}`);
    }
  }

  /** Removes the container and its anonymous volumes; a running one only with `force`. */
  async remove(id: string, opts: Call & { force?: boolean } = {}): Promise<void> {
    const observed = await this.#requireManaged(id, 'remove', opts.signal);
    if (!observed) return;
    try {
      await this.#docker
        .getContainer(id)
        .remove({ v: true, force: opts.force ?? false, abortSignal: opts.signal });
      this.#logger.info({ containerId: observed.id, name: observed.name }, 'container removed');
    } catch (err) {
      if (isNotFound(err)) return;
      if (isRemovalInProgress(err)) return this.#untilRemoved(observed, opts.signal);
      throw translateEngineError(err, `removing container ${observed.name}`);
    }
  }

  /**
   * The engine goes on removing a container after the call that asked for it was aborted (a
   * deposed leader's runner); the next remove is done when that removal is, not an error.
   */
  async #untilRemoved(observed: ObservedContainer, signal: AbortSignal | undefined): Promise<void> {
    const deadline = Date.now() + REMOVAL_WAIT_MS;
    while (Date.now() < deadline) {
      if (!(await this.inspect(observed.id, { ...(signal ? { signal } : {}) }))) return;
      await sleep(250, signal);
    }
    throw new GlintError(
      DockerErrorCode.EngineError,
      `removing container ${observed.name}: the engine's own removal of it has not finished in ${REMOVAL_WAIT_MS / 1000} s`,
    );
  }

  /** The container, or undefined when it does not exist. */
  async inspect(id: string, call: Call = {}): Promise<ObservedContainer | undefined> {
    try {
      return toObservedContainer(
        await this.#docker.getContainer(id).inspect({ abortSignal: call.signal } as object),
      );
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw translateEngineError(err, `inspecting container ${id}`);
    }
  }

  /** glint's containers (glint.managed=true), narrowed by app and labels. */
  async list(filter: ListFilter = {}, call: Call = {}): Promise<ObservedContainer[]> {
    const label = [`${GLINT_LABELS.managed}=true`];
    if (filter.app) label.push(`${GLINT_LABELS.app}=${filter.app}`);
    for (const [k, v] of Object.entries(filter.labels ?? {})) label.push(`${k}=${v}`);
    let summaries: Dockerode.ContainerInfo[];
    try {
      summaries = await this.#docker.listContainers({
        all: filter.all ?? true,
        filters: { label },
        abortSignal: call.signal,
      } as Dockerode.ContainerListOptions);
    } catch (err) {
      throw translateEngineError(err, 'listing containers');
    }
    const observed = await Promise.all(summaries.map((s) => this.inspect(s.Id, call)));
    // A container removed between list and inspect is simply gone.
    return observed.filter((c): c is ObservedContainer => c !== undefined);
  }

  /** The host port the container's `containerPort` is published on. */
  async hostPort(id: string, containerPort: number, call: Call = {}): Promise<number> {
    let info: Dockerode.ContainerInspectInfo;
    try {
      info = await this.#docker.getContainer(id).inspect({ abortSignal: call.signal } as object);
    } catch (err) {
      throw translateEngineError(err, `reading ports of container ${id}`);
    }
    const binding = info.NetworkSettings?.Ports?.[`${containerPort}/tcp`]?.[0];
    if (!binding?.HostPort) {
      throw new GlintError(
        DockerErrorCode.PortNotPublished,
        `container ${info.Name.replace(/^\//, '')} publishes no host port for ${containerPort}/tcp (state ${info.State.Status}); ports are assigned once it runs`,
      );
    }
    return Number(binding.HostPort);
  }

  /** The container's IP on its engine's network (the default bridge), where it listens itself. */
  async containerIp(id: string, call: Call = {}): Promise<string> {
    let info: Dockerode.ContainerInspectInfo;
    try {
      info = await this.#docker.getContainer(id).inspect({ abortSignal: call.signal } as object);
    } catch (err) {
      throw translateEngineError(err, `reading the address of container ${id}`);
    }
    const ip = networkIp(info.NetworkSettings);
    if (!ip)
      throw new GlintError(
        DockerErrorCode.ContainerAddressUnknown,
        `container ${info.Name.replace(/^\//, '')} has no IP on any network (state ${info.State.Status}); with addressMode 'container' it must run on a network (the default bridge)`,
      );
    return ip;
  }

  /** Runs a command inside the container; output (stdout+stderr) is capped at its last 4 KB. */
  exec(id: string, command: string[], call: Call & { timeoutMs?: number } = {}): Promise<ExecResult> {
    return execInContainer(this.#engine, id, command, call);
  }

  async #requireManaged(
    id: string,
    action: string,
    signal?: AbortSignal,
  ): Promise<ObservedContainer | undefined> {
    const observed = await this.inspect(id, { signal });
    if (observed && !observed.managed) {
      throw new GlintError(
        DockerErrorCode.NotManaged,
        `refusing to ${action} container ${observed.name} (${observed.id.slice(0, 12)}): it has no ${GLINT_LABELS.managed}=true label, so glint did not create it; manage it with the docker CLI yourself`,
        { details: { containerId: observed.id, name: observed.name } },
      );
    }
    return observed;
  }
}
