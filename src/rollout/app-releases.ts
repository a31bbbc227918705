import {
  type AppConfig,
  findServiceReferences,
  readsInstances,
  serviceFrontendsOf,
} from '../config/index.ts';
import { computeSpecHash, type InstanceSpec, type RegistryClient, resolveImage } from '../docker/index.ts';
import { GlintError } from '../errors/index.ts';
import {
  type EnvSnapshot,
  type EtcdClient,
  type Release,
  type ResolvedEnv,
  readEnvSnapshot,
  resolveAppEnv,
  resolveEnvSnapshot,
} from '../etcd/index.ts';

export type ReleaseSource = {
  /** A version of the app (semver, `latest`, digest) as a release: verified digest and env read now. */
  resolve(app: string, version: string, repository?: string): Promise<Release>;
  /** The same image with the env read again (a config change, a rotation, a heal). */
  refresh(app: string, release: Release): Promise<Release>;
  /** Everything the container of `instance` on `node` is made of. */
  specFor(app: string, release: Release, instance: string, node: string): Promise<InstanceSpec>;
};

export const ReleaseErrorCode = {
  /** A secret the release was made with is no longer under the app's secrets. */
  SecretGone: 'ReleaseSecretGone',
  UnknownApp: 'UnknownApp',
} as const;

export type AppReleasesOptions = {
  apps: () => Readonly<Record<string, AppConfig>>;
  registry: RegistryClient;
  etcd: EtcdClient;
  /** Each node's host IP: where instances publish their port and HAProxy reaches them. */
  hostIpOf: (node: string) => string;
  /** Each node's service address: where its containers reach HAProxy (`glint-lb`). */
  serviceAddressOf: (node: string) => string;
  /** The node whose host IP the release's spec hash is computed with. */
  defaultNode: string;
  /** Labels every container gets beside glint's own (a test run's, a team's). */
  extraLabels?: Readonly<Record<string, string>>;
};

/**
 * Turns "version X of app Y" into a Release (what the deployment record keeps) and a Release
 * back into an InstanceSpec. The spec hash is computed from a spec on a placeholder instance and
 * the first node's host IP and service address: every instance of one release on one kind of
 * node shares it.
 */
export class AppReleases implements ReleaseSource {
  constructor(private readonly opts: AppReleasesOptions) {}

  /** `repository`: one of the app's `allowedImages` instead of its `image` (checked by the caller). */
  async resolve(app: string, version: string, repository?: string): Promise<Release> {
    const config = this.#app(app);
    // The env is read while the registry answers: neither depends on the other.
    const env = this.#env(app);
    env.catch(() => undefined);
    const image = await resolveImage(this.opts.registry, {
      repository: repository ?? config.image,
      requested: version,
      allowPrerelease: config.allowPrerelease,
      requireStamp: config.requireStamp,
    });
    return this.#release(
      { imageRef: image.ref, version: image.version, digest: image.digest },
      app,
      await env,
    );
  }

  async refresh(app: string, release: Release): Promise<Release> {
    return this.#release(release, app, await this.#env(app));
  }

  async specFor(app: string, release: Release, instance: string, node: string): Promise<InstanceSpec> {
    const resolved = await this.#env(app);
    const env: Record<string, string> = { ...release.env.values };
    for (const name of release.env.secretNames) {
      const value = resolved.env[name];
      if (value === undefined)
        throw new GlintError(
          ReleaseErrorCode.SecretGone,
          `${app}: secret ${name} of release ${release.version} is no longer in etcd; put it back under secrets/${app}/${name}`,
          { details: { app, secret: name } },
        );
      env[name] = value;
    }
    return this.#spec(app, release, env, instance, node);
  }

  #release(
    image: Pick<Release, 'imageRef' | 'version' | 'digest'>,
    app: string,
    resolved: ResolvedEnv,
  ): Release {
    const secret = new Set(resolved.secretNames);
    const values = Object.fromEntries(Object.entries(resolved.env).filter(([name]) => !secret.has(name)));
    const partial = {
      ...image,
      env: {
        fingerprint: resolved.fingerprint,
        readRevision: resolved.revision,
        values,
        secretNames: [...resolved.secretNames],
      },
    };
    const spec = this.#spec(
      app,
      { ...partial, specHash: '' },
      { ...resolved.env },
      'x',
      this.opts.defaultNode,
    );
    return { ...partial, specHash: computeSpecHash(spec) };
  }

  #spec(
    app: string,
    release: Release,
    env: Record<string, string>,
    instance: string,
    node: string,
  ): InstanceSpec {
    const config = this.#app(app);
    const repository = release.imageRef.split('@')[0]!;
    return {
      app,
      instance,
      image: { repository, ref: release.imageRef, digest: release.digest, version: release.version },
      env,
      containerPort: config.port,
      ...(config.network === 'host' ? { network: 'host' as const } : {}),
      hostIp: this.opts.hostIpOf(node),
      serviceAddress: this.opts.serviceAddressOf(node),
      resources: {
        ...(config.resources.memory ? { memoryBytes: config.resources.memory } : {}),
        ...(config.resources.cpus ? { nanoCpus: Math.round(config.resources.cpus * 1e9) } : {}),
      },
      health: config.health,
      labels: { ...(this.opts.extraLabels ?? {}), ...config.labels },
      stopTimeoutMs: config.strategy.stopTimeout,
      ...(config.security ? { security: config.security } : {}),
      config: { fingerprint: release.env.fingerprint, revision: release.env.readRevision },
    };
  }

  async #env(app: string): Promise<ResolvedEnv> {
    const config = this.#app(app);
    const frontends = serviceFrontendsOf(this.opts.apps());
    if (config.etcdConfig) return resolveAppEnv(this.opts.etcd, { app, staticEnv: config.env, frontends });
    // Static env only: etcd is read just for the registry, when a value names a service's instances.
    const local: EnvSnapshot = {
      app,
      staticEnv: config.env,
      frontends,
      shared: [],
      config: [],
      secrets: [],
      services: new Map(),
      revision: 0,
    };
    const readsRegistry = Object.values(config.env).some((value) =>
      findServiceReferences(value).references.some(readsInstances),
    );
    if (!readsRegistry) return resolveEnvSnapshot(local);
    const read = await readEnvSnapshot(this.opts.etcd, { app, frontends });
    return resolveEnvSnapshot({ ...local, services: read.services, revision: read.revision });
  }

  #app(app: string): AppConfig {
    const config = this.opts.apps()[app];
    if (!config)
      throw new GlintError(
        ReleaseErrorCode.UnknownApp,
        `no app named ${app} is declared; add it to the declaration`,
        {
          details: { app },
        },
      );
    return config;
  }
}
