import Dockerode from 'dockerode';

/** Where the engine listens and how glint proves who it is. Unset: the local socket. */
export type EngineConnection = {
  socketPath?: string;
  host?: string;
  port?: number;
  protocol?: 'http' | 'https' | 'ssh';
  /** https: the CA the engine's certificate must chain to, and glint's client certificate. */
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** ssh: the remote user, and the ssh-agent socket holding that user's key. */
  username?: string;
  sshAgent?: string;
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
    clients.set(this, new Dockerode(dockerodeOptions(connection)));
    this.description = describe(connection);
  }

  /** Resolves when the engine answers. */
  async ping(signal?: AbortSignal): Promise<void> {
    const ping = dockerodeOf(this).ping as unknown as (opts: object) => Promise<unknown>;
    await ping.call(dockerodeOf(this), { abortSignal: signal });
  }
}

/**
 * docker-modem dials `docker system dial-stdio` over ssh2 for `protocol: 'ssh'`, with
 * `sshOptions` passed to ssh2's connect (the agent authenticates).
 */
function dockerodeOptions(c: EngineConnection): Dockerode.DockerOptions {
  const { sshAgent, ...rest } = c;
  return c.protocol === 'ssh' && sshAgent ? { ...rest, sshOptions: { agent: sshAgent } } : rest;
}

function describe(c: EngineConnection): string {
  if (c.socketPath) return c.socketPath;
  if (!c.host) return 'default';
  if (c.protocol === 'ssh') return `ssh://${c.username}@${c.host}${c.port ? `:${c.port}` : ''}`;
  return `${c.host}:${c.port}`;
}

/** Module-internal: the dockerode client of an engine handle. */
export function dockerodeOf(engine: DockerEngine): Dockerode {
  const client = clients.get(engine);
  if (!client) throw new Error('DockerEngine was not constructed');
  return client;
}
