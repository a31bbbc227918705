import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DockerEngine,
  DockerErrorCode,
  DockerNodes,
  discoverServiceAddress,
  execInContainer,
  isImagePresent,
  pullImage,
  RegistryAuthenticator,
  RegistryClient,
  type ResolvedImage,
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
import { testLabels, testRunId } from '../../support/labels.ts';
import { namespacePath } from '../../support/namespace-link.ts';
import { loadImage, type SecondEngine, startSecondEngine } from '../../support/second-engine.ts';
import { waitFor } from '../../support/wait-for.ts';

const SUITE = 'docker-second-engine';
let registry: DemoRegistry;
let image: ResolvedImage;
let second: SecondEngine;
let nodes: DockerNodes;
/** Where the demo instance on the second engine answers, once launched. */
let launched: { containerId: string; host: string; port: number };

async function versionAt(host: string, port: number): Promise<string> {
  return waitFor(async () => {
    const res = await fetch(`http://${host}:${port}/version`, { signal: AbortSignal.timeout(2_000) });
    return res.ok ? ((await res.json()) as { version: string }).version : undefined;
  });
}

beforeAll(async () => {
  registry = await startDemoRegistry(SUITE);
  await pushDemoVersion(registry, 'demo-app', '1.0.0');
  image = await resolveImage(new RegistryClient({ authenticator: new RegistryAuthenticator() }), {
    repository: `${registry.host}/demo-app`,
    requested: '1.0.0',
  });
  const startedAt = Date.now();
  second = await startSecondEngine({ suite: SUITE, registryPort: Number(registry.host.split(':')[1]) });
  console.log(`[second engine] ${second.id} answered ${Date.now() - startedAt} ms after start`);
  const local = new DockerEngine();
  nodes = new DockerNodes(
    [
      {
        name: 'local',
        engine: local,
        hostIp: '127.0.0.1',
        serviceAddress: await discoverServiceAddress(local, 'local'),
      },
      second.node,
    ],
    { scope: testLabels(SUITE) },
  );
});

afterAll(async () => {
  await second?.stop();
  await removeTestContainers({ runId: testRunId(), suite: SUITE });
  if (registry) await forgetRegistryImages(registry.host);
});

describe('a second Docker engine in a network namespace', () => {
  it('pulls the demo app by digest from the test registry and runs it where the host reaches it', async () => {
    expect(await isImagePresent(second.node.engine, image.ref)).toBe(false);
    const pullStart = Date.now();
    const pulled = await pullImage(second.node.engine, image.ref);
    console.log(`[second engine] pulled ${image.ref} in ${Date.now() - pullStart} ms`);
    expect(pulled.pulled).toBe(true);

    launched = await nodes.launch(
      second.name,
      demoInstanceSpec(SUITE, image, { hostIp: second.hostIp, serviceAddress: second.hostSideAddress }),
    );
    expect(launched.host).toBe(second.hostIp);
    expect(await versionAt(second.hostIp, launched.port)).toBe('1.0.0');
  });

  it('also pulls with the registry named by the host end of the link', async () => {
    const port = registry.host.split(':')[1];
    const ref = `${second.hostSideAddress}:${port}/demo-app@${image.digest}`;
    await expect(pullImage(second.node.engine, ref)).resolves.toMatchObject({ pulled: true });
    expect(await isImagePresent(second.node.engine, ref)).toBe(true);
  });

  it("lets the engine's containers reach the host end of the link as glint-lb", async () => {
    const listener: Server = createServer((_req, res) => res.end('host side'));
    await new Promise<void>((resolve) => listener.listen(0, second.hostSideAddress, resolve));
    try {
      const { port } = listener.address() as { port: number };
      const result = await execInContainer(
        second.node.engine,
        launched.containerId,
        ['node', '-e', `fetch('http://glint-lb:${port}/').then(r => r.text()).then(t => console.log(t))`],
        { timeoutMs: 30_000 },
      );
      expect(result).toMatchObject({ exitCode: 0, output: expect.stringContaining('host side') });
    } finally {
      await new Promise((resolve) => listener.close(resolve));
    }
  });

  it('lists the containers of both engines, each under its node', async () => {
    const local = await nodes.launch('local', demoInstanceSpec(SUITE, image));
    const listed = await nodes.list('demo');
    expect(listed.map((c) => [c.node, c.containerId]).sort()).toEqual(
      [
        ['local', local.containerId],
        [second.name, launched.containerId],
      ].sort(),
    );
    expect(listed.find((c) => c.node === second.name)).toMatchObject({ host: second.hostIp, running: true });
  });

  it('fails a list on a killed engine as unreachable, and knows the killed container once restarted', async () => {
    await second.kill();
    const failedAt = Date.now();
    // Bounded so that a hang fails the test as a wrong error rather than by the test timeout.
    const err = await nodes.list('demo', { signal: AbortSignal.timeout(60_000) }).catch((e: unknown) => e);
    console.log(`[second engine] a list on the killed engine failed after ${Date.now() - failedAt} ms`);
    expect(err).toMatchObject({ name: 'TransientError', code: DockerErrorCode.EngineUnreachable });
    await expect(
      fetch(`http://${second.hostIp}:${launched.port}/version`, { signal: AbortSignal.timeout(10_000) }),
    ).rejects.toThrow();

    await second.restart();
    const after = await nodes.list('demo');
    const killed = after.find((c) => c.containerId === launched.containerId);
    console.log(`[second engine] after restart the killed container is ${killed?.exit ?? 'running'}`);
    expect(killed).toMatchObject({
      node: second.name,
      running: false,
      exit: expect.stringMatching(/^exited/),
    });
    expect(after.some((c) => c.node === 'local' && c.running)).toBe(true);
  });

  it('is unreachable while its link is cut, and answers again once it is restored', async () => {
    await second.cutLink();
    // A partition drops packets without an answer: the call hangs until the caller gives up.
    const err = await second.node.engine.ping(AbortSignal.timeout(3_000)).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: expect.stringMatching(/AbortError|TimeoutError/) });

    await second.restoreLink();
    await waitFor(() => second.node.engine.ping(AbortSignal.timeout(2_000)).then(() => true), {
      timeoutMs: 30_000,
      what: 'the second engine to answer after the link came back',
    });
    await expect(nodes.list('demo')).resolves.toContainEqual(
      expect.objectContaining({ containerId: launched.containerId }),
    );
  });

  it('copies an image from the first engine with save and load', async () => {
    await loadImage(second, `${registry.host}/demo-app:1.0.0`);
    expect(await isImagePresent(second.node.engine, `${registry.host}/demo-app:1.0.0`)).toBe(true);
  });
});

describe('two second engines at once', () => {
  it('get distinct names and subnets, carry a loopback-only registry port in, and stop removes every trace, twice over', async () => {
    // A registry published on 127.0.0.1 only (the test registry is published on every address):
    // the relays carry it to the namespace's own 127.0.0.1 as well.
    let requests = 0;
    const loopbackOnly: Server = createServer((_req, res) => {
      requests++;
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => loopbackOnly.listen(0, '127.0.0.1', resolve));
    const { port } = loopbackOnly.address() as { port: number };
    const other = await startSecondEngine({ suite: SUITE, name: 'node-c', registryPort: port });
    try {
      expect(other.id).not.toBe(second.id);
      expect(other.hostIp.split('.').slice(0, 3)).not.toEqual(second.hostIp.split('.').slice(0, 3));
      await expect(second.node.engine.ping()).resolves.toBeUndefined();
      const ref = `127.0.0.1:${port}/absent@sha256:${'0'.repeat(64)}`;
      // It answers 404 to everything: the pull fails, but only after the engine's requests got here.
      await expect(pullImage(other.node.engine, ref, { attempts: 1 })).rejects.toThrow();
      expect(requests).toBeGreaterThan(0);
    } finally {
      await other.stop();
      await new Promise((resolve) => loopbackOnly.close(resolve));
    }
    expect(existsSync(namespacePath(other.id))).toBe(false);
    expect(existsSync(`/sys/class/net/${other.id}h`)).toBe(false);
    expect(existsSync(other.socketPath)).toBe(false);
    await expect(other.stop()).resolves.toBeUndefined();
  });
});
