import { GenericContainer, type StartedTestContainer, Wait } from 'testcontainers';
import { testLabels } from './labels.ts';

export const REGISTRY_IMAGE = process.env.GLINT_REGISTRY_IMAGE ?? 'registry:2';

export type RegistryHandle = { container: StartedTestContainer; host: string };

export type RegistryOptions = {
  /** Contents of an htpasswd file (bcrypt entries); when set the registry requires basic auth. */
  htpasswd?: string;
  /** Host folder for the registry's storage, so pushed layers survive across suites. */
  storageDir?: string;
};

/** A real image registry (distribution), plain HTTP on 127.0.0.1:<ephemeral port>. */
export async function startRegistry(suite: string, opts: RegistryOptions = {}): Promise<RegistryHandle> {
  let builder = new GenericContainer(REGISTRY_IMAGE)
    .withLabels(testLabels(suite))
    .withExposedPorts(5000)
    .withEnvironment({ REGISTRY_STORAGE_DELETE_ENABLED: 'true' })
    .withWaitStrategy(
      Wait.forHttp('/v2/', 5000)
        .forStatusCodeMatching((s) => s === 200 || s === 401)
        .withReadTimeout(500),
    )
    .withStartupTimeout(30_000);
  if (opts.htpasswd) {
    builder = builder
      .withCopyContentToContainer([{ content: opts.htpasswd, target: '/auth/htpasswd' }])
      .withEnvironment({
        REGISTRY_STORAGE_DELETE_ENABLED: 'true',
        REGISTRY_AUTH: 'htpasswd',
        REGISTRY_AUTH_HTPASSWD_REALM: 'glint-test',
        REGISTRY_AUTH_HTPASSWD_PATH: '/auth/htpasswd',
      });
  }
  if (opts.storageDir) {
    builder = builder.withBindMounts([{ source: opts.storageDir, target: '/var/lib/registry', mode: 'rw' }]);
  }
  const container = await builder.start();
  return { container, host: `127.0.0.1:${container.getMappedPort(5000)}` };
}
