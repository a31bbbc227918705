import Dockerode from 'dockerode';

/** Where the engine listens. Defaults to DOCKER_HOST semantics of dockerode (the local socket). */
export type EngineConnection = {
  socketPath?: string;
  host?: string;
  port?: number;
  protocol?: 'http' | 'https';
};

const clients = new WeakMap<DockerEngine, Dockerode>();

/**
 * A handle on one Docker engine. Deliberately opaque: the dockerode client behind it never
 * leaves src/docker. No API version is pinned (20.10 tops out at 1.41, newer engines refuse
 * old ones) and no request timeout is set (the event stream and pulls are long-lived).
 */
export class DockerEngine {
  readonly description: string;

  constructor(connection: EngineConnection = {}) {
    clients.set(this, new Dockerode(connection));
    this.description =
      connection.socketPath ?? (connection.host ? `${connection.host}:${connection.port}` : 'default');
  }

  /** Resolves when the engine answers. */
  async ping(signal?: AbortSignal): Promise<void> {
    const ping = dockerodeOf(this).ping as unknown as (opts: object) => Promise<unknown>;
    await ping.call(dockerodeOf(this), { abortSignal: signal });
  }
}

/** Module-internal: the dockerode client of an engine handle. */
export function dockerodeOf(engine: DockerEngine): Dockerode {
  const client = clients.get(engine);
  if (!client) throw new Error('DockerEngine was not constructed');
  return client;
}
