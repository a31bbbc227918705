import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DockerErrorCode,
  parseImageReference,
  RegistryAuthenticator,
  RegistryClient,
  resolveImage,
  STAMP_LABELS,
} from '../../../src/docker/index.ts';
import { freePort } from '../../support/free-port.ts';
import { FakeRegistry } from './fake-registry.ts';

const stamp = (version: string) => ({
  [STAMP_LABELS.version]: version,
  [STAMP_LABELS.revision]: `rev-${version}`,
});

let registry: FakeRegistry;
let host: string;
const client = (password = 's3cret', timeoutMs = 2000) =>
  new RegistryClient({
    authenticator: new RegistryAuthenticator({ [host]: { username: 'ci', password } }),
    timeoutMs,
  });

beforeEach(async () => {
  registry = new FakeRegistry('team/app', [
    { tag: '1.0.0', labels: stamp('1.0.0') },
    { tag: '1.1.0', labels: stamp('1.1.0') },
    { tag: '1.2.0', labels: stamp('1.2.0') },
    { tag: 'main', labels: stamp('main') },
    { tag: '2.0.0-rc.1', labels: stamp('2.0.0-rc.1') },
  ]);
  host = await registry.start();
});

afterEach(async () => {
  await registry.stop();
});

describe('RegistryClient behind a Bearer token service', () => {
  it('lists every tag across pages, fetching one token for the scope', async () => {
    const tags = await client().listTags(parseImageReference(`${host}/team/app`));
    expect(tags.sort()).toEqual(['1.0.0', '1.1.0', '1.2.0', '2.0.0-rc.1', 'main']);
    expect(registry.tokenRequests).toHaveLength(1);
    expect(registry.tokenRequests[0]?.scope).toBe('repository:team/app:pull');
  });

  it('resolves latest to the highest release, pinned by digest, with its stamp', async () => {
    const resolved = await resolveImage(client(), { repository: `${host}/team/app`, requested: 'latest' });
    expect(resolved).toMatchObject({
      version: '1.2.0',
      revision: 'rev-1.2.0',
      tag: '1.2.0',
      created: '2026-01-01T00:00:00Z',
    });
    expect(resolved.ref).toBe(`${host}/team/app@${resolved.digest}`);
  });

  it('takes the prerelease when the app allows it', async () => {
    const resolved = await resolveImage(client(), {
      repository: `${host}/team/app`,
      requested: 'latest',
      allowPrerelease: true,
    });
    expect(resolved.version).toBe('2.0.0-rc.1');
  });

  it('pins the digest of the manifest bytes whether or not the registry names it', async () => {
    const ref = parseImageReference(`${host}/team/app:1.1.0`);
    const withHeader = await client().readImage(ref);
    registry.omitDigestHeader = true;
    const without = await client().readImage(ref);
    expect(without.digest).toBe(withHeader.digest);
    expect(without.digest).toBe(registry.digestOf('1.1.0'));
    expect(without.config.labels).toEqual(stamp('1.1.0'));
  });

  it.each([
    ['a manifest whose bytes differ from the digest the registry names', 'manifest'],
    ['a config blob whose bytes differ from its digest', 'blob'],
  ] as const)('refuses %s', async (_what, tamper) => {
    registry.tamper = tamper;
    await expect(
      resolveImage(client(), { repository: `${host}/team/app`, requested: '1.1.0' }),
    ).rejects.toMatchObject({ code: DockerErrorCode.RegistryProtocol, message: /hashes? to/ });
  });

  it('reads a config blob once, and the new one when a tag moves to another image', async () => {
    const c = client();
    const ref = parseImageReference(`${host}/team/app:1.1.0`);
    const first = await c.readImage(ref);
    const again = await c.readImage(ref);
    expect(again).toEqual(first);
    expect(registry.blobReads).toHaveLength(1);
    // A rebuild pushed under the same tag: the manifest is read again and names another config.
    registry.push({ tag: '1.1.0', labels: { ...stamp('1.1.0'), rebuilt: 'yes' } });
    const moved = await c.readImage(ref);
    expect(moved.digest).not.toBe(first.digest);
    expect(moved.config.labels.rebuilt).toBe('yes');
    expect(registry.blobReads).toHaveLength(2);
    // What a caller does with an answer does not reach the next one.
    moved.config.labels.rebuilt = 'changed';
    expect((await c.readImage(ref)).config.labels.rebuilt).toBe('yes');
  });

  it('refuses a manifest fetched by digest that hashes to another digest', async () => {
    const other = registry.digestOf('1.0.0');
    registry.serveUnderDigest(other, '1.1.0');
    await expect(client().readImage(parseImageReference(`${host}/team/app@${other}`))).rejects.toMatchObject({
      code: DockerErrorCode.RegistryProtocol,
      message: /hashes to/,
    });
  });

  it('names the newest stamped tags when a tag does not exist', async () => {
    await expect(
      resolveImage(client(), { repository: `${host}/team/app`, requested: '1.9.0' }),
    ).rejects.toMatchObject({
      code: DockerErrorCode.TagNotFound,
      message: `tag 1.9.0 not found in ${host}/team/app; newest stamped tags: 1.2.0, 1.1.0, 1.0.0`,
    });
  });

  it('refuses a tag whose image is stamped with another version', async () => {
    registry.push({ tag: '1.3.0', labels: stamp('1.2.0') });
    await expect(
      resolveImage(client(), { repository: `${host}/team/app`, requested: '1.3.0' }),
    ).rejects.toMatchObject({
      code: DockerErrorCode.StampMismatch,
    });
  });

  it('accepts an unstamped image only when the app does not require a stamp', async () => {
    registry.push({ tag: '1.4.0', labels: {} });
    const input = { repository: `${host}/team/app`, requested: '1.4.0' };
    await expect(resolveImage(client(), input)).rejects.toMatchObject({ code: DockerErrorCode.StampMissing });
    expect((await resolveImage(client(), { ...input, requireStamp: false })).version).toBe('1.4.0');
  });

  it('reports refused credentials without the password', async () => {
    const err = await client('wrong-password')
      .listTags(parseImageReference(`${host}/team/app`))
      .catch((e) => e);
    expect(err).toMatchObject({ code: DockerErrorCode.RegistryAuthFailed });
    expect(err.message).toContain("user 'ci'");
    expect(err.message).not.toContain('wrong-password');
  });

  it('says credentials are missing when none are configured for the host', async () => {
    const anonymous = new RegistryClient({ authenticator: new RegistryAuthenticator({}) });
    await expect(anonymous.listTags(parseImageReference(`${host}/team/app`))).rejects.toMatchObject({
      code: DockerErrorCode.RegistryAuthFailed,
      message: expect.stringContaining('none are configured'),
    });
  });

  it('marks 5xx answers as transient', async () => {
    registry.failWith = 503;
    await expect(client().listTags(parseImageReference(`${host}/team/app`))).rejects.toMatchObject({
      code: DockerErrorCode.RegistryUnreachable,
      name: 'TransientError',
    });
  });

  it('bounds each request in time', async () => {
    registry.delayMs = 500;
    await expect(
      client('s3cret', 100).listTags(parseImageReference(`${host}/team/app`)),
    ).rejects.toMatchObject({
      code: DockerErrorCode.RegistryTimeout,
      message: expect.stringContaining('within 100ms'),
    });
  });

  it('reports an unknown repository', async () => {
    await expect(client().listTags(parseImageReference(`${host}/team/other`))).rejects.toMatchObject({
      code: DockerErrorCode.RepositoryNotFound,
    });
  });
});

it('reports a registry nobody listens on as unreachable', async () => {
  const port = await freePort();
  const anonymous = new RegistryClient({ authenticator: new RegistryAuthenticator() });
  await expect(anonymous.listTags(parseImageReference(`127.0.0.1:${port}/x`))).rejects.toMatchObject({
    code: DockerErrorCode.RegistryUnreachable,
    message: expect.stringContaining('connection refused'),
  });
});
