import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DockerErrorCode,
  parseImageReference,
  RegistryAuthenticator,
  RegistryClient,
  resolveImage,
} from '../../../src/docker/index.ts';
import { removeTestContainers } from '../../support/cleanup.ts';
import {
  type DemoRegistry,
  forgetRegistryImages,
  pushDemoVersion,
  startDemoRegistry,
} from '../../support/demo-registry.ts';
import { freePort } from '../../support/free-port.ts';
import { testRunId } from '../../support/labels.ts';

const SUITE = 'docker-resolve-image';
let registry: DemoRegistry;
let client: RegistryClient;
let repo: string;
const digests: Record<string, string> = {};

beforeAll(async () => {
  registry = await startDemoRegistry(SUITE);
  client = new RegistryClient({ authenticator: new RegistryAuthenticator() });
  repo = `resolve-${testRunId()}`;
  for (const version of ['1.0.0', '1.2.0', '1.1.0']) {
    digests[version] = (await pushDemoVersion(registry, repo, version)).digest;
  }
  await pushDemoVersion(registry, repo, 'main', { stampVersion: '1.3.0-dev' });
});

afterAll(async () => {
  await removeTestContainers({ runId: testRunId(), suite: SUITE });
  if (registry) await forgetRegistryImages(registry.host);
});

describe('resolveImage against a real registry', () => {
  it('lists the pushed tags through the v2 API', async () => {
    const tags = await client.listTags(parseImageReference(`${registry.host}/${repo}`));
    expect(tags.sort()).toEqual(['1.0.0', '1.1.0', '1.2.0', 'main']);
  });

  it('latest picks the highest stamped version, pinned to the digest the push produced', async () => {
    const resolved = await resolveImage(client, {
      repository: `${registry.host}/${repo}`,
      requested: 'latest',
    });
    expect(resolved).toMatchObject({
      version: '1.2.0',
      revision: 'rev-120',
      created: '2026-01-01T00:00:00Z',
      digest: digests['1.2.0'],
      ref: `${registry.host}/${repo}@${digests['1.2.0']}`,
    });
  });

  it('a version resolves to the digest of its own tag', async () => {
    const resolved = await resolveImage(client, {
      repository: `${registry.host}/${repo}`,
      requested: '1.1.0',
    });
    expect(resolved.digest).toBe(digests['1.1.0']);
    expect(resolved.digest).not.toBe(digests['1.2.0']);
  });

  it('a digest resolves to itself and reads the stamp', async () => {
    const resolved = await resolveImage(client, {
      repository: `${registry.host}/${repo}`,
      requested: digests['1.0.0']!,
    });
    expect(resolved).toMatchObject({ digest: digests['1.0.0'], version: '1.0.0', revision: 'rev-100' });
  });

  it('an explicit image:tag with a non-version tag is accepted with its stamp', async () => {
    const resolved = await resolveImage(client, {
      repository: `${registry.host}/${repo}`,
      requested: `${registry.host}/${repo}:main`,
    });
    expect(resolved).toMatchObject({ version: '1.3.0-dev', tag: 'main' });
  });

  it('an unknown tag names the newest stamped tags', async () => {
    await expect(
      resolveImage(client, { repository: `${registry.host}/${repo}`, requested: '1.9.0' }),
    ).rejects.toMatchObject({
      code: DockerErrorCode.TagNotFound,
      message: `tag 1.9.0 not found in ${registry.host}/${repo}; newest stamped tags: 1.2.0, 1.1.0, 1.0.0`,
    });
  });

  it('a tag whose image carries another version is refused before anything is pulled', async () => {
    const wrongRepo = `${repo}-wrong`;
    await pushDemoVersion(registry, wrongRepo, '2.0.0', { stampVersion: '1.9.9' });
    await expect(
      resolveImage(client, { repository: `${registry.host}/${wrongRepo}`, requested: '2.0.0' }),
    ).rejects.toMatchObject({
      code: DockerErrorCode.StampMismatch,
      message: expect.stringContaining('is stamped 1.9.9, not 2.0.0'),
    });
  });

  it('a repository that does not exist is its own error', async () => {
    await expect(
      resolveImage(client, { repository: `${registry.host}/no-such-${testRunId()}`, requested: 'latest' }),
    ).rejects.toMatchObject({ code: DockerErrorCode.RepositoryNotFound });
  });

  it('a registry nobody listens on is reported unreachable and transient', async () => {
    const port = await freePort();
    await expect(
      resolveImage(client, { repository: `127.0.0.1:${port}/demo-app`, requested: '1.0.0' }),
    ).rejects.toMatchObject({
      code: DockerErrorCode.RegistryUnreachable,
      name: 'TransientError',
    });
  });
});
