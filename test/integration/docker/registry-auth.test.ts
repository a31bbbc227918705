import { Writable } from 'node:stream';
import bcrypt from 'bcryptjs';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DockerEngine,
  DockerErrorCode,
  isImagePresent,
  pullImage,
  RegistryAuthenticator,
  RegistryClient,
  resolveImage,
} from '../../../src/docker/index.ts';
import { createLogger } from '../../../src/log/index.ts';
import { removeTestContainers } from '../../support/cleanup.ts';
import { startCountingHttpProxy } from '../../support/counting-http-proxy.ts';
import {
  type DemoRegistry,
  forgetRegistryImages,
  pushDemoVersion,
  startDemoRegistry,
} from '../../support/demo-registry.ts';
import { testRunId } from '../../support/labels.ts';

const SUITE = 'docker-registry-auth';
const USER = 'deployer';
const PASSWORD = 'correct-horse-battery';
const WRONG = 'not-the-password';
const engine = new DockerEngine();
let registry: DemoRegistry;
let repository: string;

const clientWith = (credentials: Record<string, { username: string; password: string }>) =>
  new RegistryClient({ authenticator: new RegistryAuthenticator(credentials) });

beforeAll(async () => {
  const htpasswd = `${USER}:${bcrypt.hashSync(PASSWORD, 10)}\n`;
  registry = await startDemoRegistry(SUITE, { htpasswd, login: { username: USER, password: PASSWORD } });
  const repo = `auth-${testRunId()}`;
  await pushDemoVersion(registry, repo, '1.0.0');
  repository = `${registry.host}/${repo}`;
});

afterAll(async () => {
  await removeTestContainers({ runId: testRunId(), suite: SUITE });
  if (registry) await forgetRegistryImages(registry.host);
});

describe('a registry that requires credentials (htpasswd)', () => {
  it('resolves with the right credentials', async () => {
    const client = clientWith({ [registry.host]: { username: USER, password: PASSWORD } });
    const resolved = await resolveImage(client, { repository, requested: 'latest' });
    expect(resolved).toMatchObject({ version: '1.0.0', ref: expect.stringMatching(/@sha256:[0-9a-f]{64}$/) });
  });

  it('refuses a wrong password with a clear error that never shows the password', async () => {
    const client = clientWith({ [registry.host]: { username: USER, password: WRONG } });
    const err = await resolveImage(client, { repository, requested: '1.0.0' }).catch((e) => e);
    expect(err).toMatchObject({ code: DockerErrorCode.RegistryAuthFailed });
    expect(err.message).toContain(
      `credentials configured for ${registry.host} (user '${USER}') were refused`,
    );
    expect(JSON.stringify({ message: err.message, details: err.details })).not.toContain(WRONG);
  });

  it('says which registry wants credentials when none are configured', async () => {
    await expect(resolveImage(clientWith({}), { repository, requested: '1.0.0' })).rejects.toMatchObject({
      code: DockerErrorCode.RegistryAuthFailed,
      message: expect.stringContaining(`${registry.host} requires credentials and none are configured`),
    });
  });

  it('pulls with the right credentials and refuses the wrong ones for good', async () => {
    const client = clientWith({ [registry.host]: { username: USER, password: PASSWORD } });
    const resolved = await resolveImage(client, { repository, requested: '1.0.0' });
    await new Docker()
      .getImage(resolved.ref)
      .remove({ noprune: true })
      .catch(() => undefined);
    expect(await isImagePresent(engine, resolved.ref)).toBe(false);

    // Through a counting proxy, to see how often the engine really asked the registry.
    const proxy = await startCountingHttpProxy(Number(registry.host.split(':')[1]));
    try {
      const proxied = resolved.ref.replace(registry.host, `127.0.0.1:${proxy.port}`);
      const wrong = { [`127.0.0.1:${proxy.port}`]: { username: USER, password: WRONG } };
      const manifestRequests = () => proxy.requests.filter((r) => r.includes('/manifests/')).length;

      const once = await pullImage(engine, proxied, { credentials: wrong, attempts: 1 }).catch((e) => e);
      expect(once).toMatchObject({ code: DockerErrorCode.RegistryAuthFailed });
      const perAttempt = manifestRequests();
      expect(perAttempt).toBeGreaterThan(0);

      const bad = await pullImage(engine, proxied, {
        credentials: wrong,
        attempts: 3,
        initialDelayMs: 10,
      }).catch((e) => e);
      expect(bad).toMatchObject({ code: DockerErrorCode.RegistryAuthFailed });
      expect(bad.message).not.toContain(WRONG);
      // Refused credentials are final: one attempt, however many were allowed.
      expect(manifestRequests()).toBe(2 * perAttempt);
    } finally {
      await proxy.close();
    }

    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const good = await pullImage(engine, resolved.ref, {
      credentials: { [registry.host]: { username: USER, password: PASSWORD } },
      logger: createLogger({ destination: sink, level: 'debug' }),
      progressIntervalMs: 0,
    });
    expect(good.pulled).toBe(true);
    expect(lines.join('')).toContain('image pulled');
    expect(lines.join('')).not.toContain(PASSWORD);
    expect(await isImagePresent(engine, resolved.ref)).toBe(true);
  });
});
