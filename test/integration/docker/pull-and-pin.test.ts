import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DockerEngine,
  DockerErrorCode,
  DockerRuntime,
  isImagePresent,
  pullImage,
  RegistryAuthenticator,
  RegistryClient,
  resolveImage,
} from '../../../src/docker/index.ts';
import { removeTestContainers } from '../../support/cleanup.ts';
import { demoInstanceSpec } from '../../support/demo-instance.ts';
import {
  type DemoRegistry,
  forgetRegistryImages,
  pushDemoVersion,
  startDemoRegistry,
} from '../../support/demo-registry.ts';
import { freePort } from '../../support/free-port.ts';
import { testRunId } from '../../support/labels.ts';
import { waitFor } from '../../support/wait-for.ts';

const SUITE = 'docker-pull-and-pin';
const engine = new DockerEngine();
const runtime = new DockerRuntime(engine);
let registry: DemoRegistry;
let client: RegistryClient;
let repo: string;

/** Drops this suite's local names of the repository, so the next pull has to go to the registry. */
async function forgetLocally(): Promise<void> {
  await forgetRegistryImages(registry.host, (name) => name.startsWith(`${registry.host}/${repo}`));
}

async function versionServedBy(containerId: string): Promise<{ version: string; revision: string }> {
  const port = await runtime.hostPort(containerId, 8080);
  return waitFor(async () => {
    const res = await fetch(`http://127.0.0.1:${port}/version`);
    return res.ok ? ((await res.json()) as { version: string; revision: string }) : undefined;
  });
}

beforeAll(async () => {
  registry = await startDemoRegistry(SUITE);
  client = new RegistryClient({ authenticator: new RegistryAuthenticator() });
  repo = `pin-${testRunId()}`;
  await pushDemoVersion(registry, repo, '1.0.0', { revision: 'first-build' });
});

afterAll(async () => {
  await removeTestContainers({ runId: testRunId(), suite: SUITE });
  if (registry) await forgetRegistryImages(registry.host);
});

describe('pullImage', () => {
  it('pulls a digest the engine lacks, then skips it once present', async () => {
    const resolved = await resolveImage(client, {
      repository: `${registry.host}/${repo}`,
      requested: '1.0.0',
    });
    await forgetLocally();
    expect(await isImagePresent(engine, resolved.ref)).toBe(false);

    const first = await pullImage(engine, resolved.ref);
    expect(first).toMatchObject({ pulled: true, attempts: 1 });
    expect(await isImagePresent(engine, resolved.ref)).toBe(true);

    const second = await pullImage(engine, resolved.ref);
    expect(second).toMatchObject({ pulled: false, attempts: 0 });
  });

  it('fails for good, without retrying, when the registry lacks the digest', async () => {
    const missing = `${registry.host}/${repo}@sha256:${'0'.repeat(64)}`;
    await expect(pullImage(engine, missing, { attempts: 3, initialDelayMs: 10 })).rejects.toMatchObject({
      code: DockerErrorCode.PullFailed,
    });
  });

  it('retries a registry that drops every connection as often as allowed, then reports the interruption', async () => {
    // Counts the engine's connections: each attempt makes the same number, so three attempts
    // make three times as many as one.
    let connections = 0;
    const dropper = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => dropper.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = dropper.address() as AddressInfo;
      const ref = `127.0.0.1:${port}/demo-app@sha256:${'1'.repeat(64)}`;

      const once = await pullImage(engine, ref, { attempts: 1 }).catch((e) => e);
      expect(once).toMatchObject({ code: DockerErrorCode.PullInterrupted, name: 'TransientError' });
      const perAttempt = connections;
      expect(perAttempt).toBeGreaterThan(0);

      connections = 0;
      const err = await pullImage(engine, ref, { attempts: 3, initialDelayMs: 10 }).catch((e) => e);
      expect(err).toMatchObject({ code: DockerErrorCode.PullInterrupted, name: 'TransientError' });
      expect(connections).toBe(3 * perAttempt);
    } finally {
      await new Promise((resolve) => dropper.close(resolve));
    }
  });

  it('reports a registry that refuses connections as an interruption', async () => {
    const port = await freePort();
    const ref = `127.0.0.1:${port}/demo-app@sha256:${'1'.repeat(64)}`;
    const err = await pullImage(engine, ref, { attempts: 1 }).catch((e) => e);
    expect(err).toMatchObject({ code: DockerErrorCode.PullInterrupted, name: 'TransientError' });
    expect(err.message).toMatch(/connection refused/);
  });
});

describe('pullImage against a registry that never answers', () => {
  let silent: Server;
  const held: Socket[] = [];

  beforeAll(async () => {
    silent = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('gives up at its time bound with a PullTimeout', async () => {
    const { port } = silent.address() as AddressInfo;
    const ref = `127.0.0.1:${port}/demo-app@sha256:${'2'.repeat(64)}`;
    await expect(pullImage(engine, ref, { timeoutMs: 1_500 })).rejects.toMatchObject({
      code: DockerErrorCode.PullTimeout,
      message: expect.stringContaining('did not finish within 1500ms'),
    });
  });
});

describe('a digest-pinned container', () => {
  it('keeps running the image it was created from after the tag moves to another build', async () => {
    const before = await resolveImage(client, { repository: `${registry.host}/${repo}`, requested: '1.0.0' });
    await pullImage(engine, before.ref);
    const { id } = await runtime.create(demoInstanceSpec(SUITE, before));
    await runtime.start(id);
    expect(await versionServedBy(id)).toMatchObject({ version: '1.0.0', revision: 'first-build' });

    const moved = await pushDemoVersion(registry, repo, '1.0.0', { revision: 'second-build' });
    const after = await resolveImage(client, { repository: `${registry.host}/${repo}`, requested: '1.0.0' });
    expect(after.digest).toBe(moved.digest);
    expect(after.digest).not.toBe(before.digest);

    const observed = await runtime.inspect(id);
    expect(observed).toMatchObject({ state: 'running', digest: before.digest, image: before.ref });
    expect(await versionServedBy(id)).toMatchObject({ revision: 'first-build' });

    // A replacement created from the recorded digest still gets the first build, not the tag's.
    await forgetLocally();
    await pullImage(engine, before.ref);
    const twin = await runtime.create(demoInstanceSpec(SUITE, before));
    await runtime.start(twin.id);
    expect(await versionServedBy(twin.id)).toMatchObject({ revision: 'first-build' });
  });
});
