import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  computeSpecHash,
  DockerEngine,
  DockerErrorCode,
  DockerRuntime,
  execInContainer,
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
import { waitFor } from '../../support/wait-for.ts';

const SUITE = 'docker-runtime';
const docker = new Docker();
const runtime = new DockerRuntime(new DockerEngine());
let registry: DemoRegistry;
let image: ResolvedImage;

beforeAll(async () => {
  registry = await startDemoRegistry(SUITE);
  const repo = `runtime-${testRunId()}`;
  await pushDemoVersion(registry, repo, '1.0.0');
  const client = new RegistryClient({ authenticator: new RegistryAuthenticator() });
  image = await resolveImage(client, { repository: `${registry.host}/${repo}`, requested: '1.0.0' });
  await pullImage(new DockerEngine(), image.ref);
});

afterAll(async () => {
  await removeTestContainers({ runId: testRunId(), suite: SUITE });
  if (registry) await forgetRegistryImages(registry.host);
});

describe('DockerRuntime', () => {
  it('creates an instance as DESIGN.md describes: name, labels, limits, no restart policy, init', async () => {
    const spec = demoInstanceSpec(SUITE, image, { env: { GREETING: 'hello' }, deploymentId: 'dep-1' });
    const { id, name } = await runtime.create(spec);
    expect(name).toBe(`glint-demo-${spec.instance}`);
    const raw = await docker.getContainer(id).inspect();
    expect(raw.Config.Image).toBe(image.ref);
    expect(raw.Config.Env).toContain('GREETING=hello');
    expect(raw.Config.Labels).toMatchObject({
      'glint.managed': 'true',
      'glint.app': 'demo',
      'glint.instance': spec.instance,
      'glint.version': '1.0.0',
      'glint.digest': image.digest,
      'glint.spec': computeSpecHash(spec),
      'glint.deployment': 'dep-1',
    });
    expect(raw.HostConfig).toMatchObject({
      Memory: 128 * 1024 * 1024,
      NanoCpus: 500_000_000,
      Init: true,
      RestartPolicy: { Name: 'no' },
    });
    expect((raw.Config as { StopTimeout?: number }).StopTimeout).toBe(5);
  });

  it('starts, publishes an ephemeral host port on the host ip, and reads it back', async () => {
    const spec = demoInstanceSpec(SUITE, image);
    const { id } = await runtime.create(spec);
    await runtime.start(id);
    const port = await runtime.hostPort(id, 8080);
    expect(port).toBeGreaterThan(1024);
    const observed = await runtime.inspect(id);
    expect(observed).toMatchObject({
      state: 'running',
      hostIp: '127.0.0.1',
      hostPort: port,
      app: 'demo',
      managed: true,
    });
    const body = await waitFor(async () => {
      const res = await fetch(`http://127.0.0.1:${port}/version`);
      return res.ok ? ((await res.json()) as { version: string }) : undefined;
    });
    expect(body.version).toBe('1.0.0');
  });

  it('lists its containers by app and labels, stopped ones included', async () => {
    const spec = demoInstanceSpec(SUITE, image, { app: 'listed' });
    const { id } = await runtime.create(spec);
    const listed = await runtime.list({ app: 'listed', labels: testLabels(SUITE) });
    expect(listed.map((c) => c.id)).toEqual([id]);
    expect(listed[0]).toMatchObject({ state: 'created', instance: spec.instance });
    expect(await runtime.list({ app: 'listed', labels: testLabels(SUITE), all: false })).toEqual([]);
  });

  it('stops with SIGTERM (the app exits 0) and removes the container with its volumes', async () => {
    const { id } = await runtime.create(demoInstanceSpec(SUITE, image));
    await runtime.start(id);
    // Until the app listens, its SIGTERM handler may not be installed yet (exit 143 instead of 0).
    const port = await runtime.hostPort(id, 8080);
    await waitFor(async () => ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok ? true : undefined));
    await runtime.stop(id);
    const stopped = await runtime.inspect(id);
    expect(stopped).toMatchObject({ state: 'exited', exitCode: 0 });
    await runtime.remove(id);
    expect(await runtime.inspect(id)).toBeUndefined();
    await expect(runtime.remove(id)).resolves.toBeUndefined();
  });

  it('removes a container that another call is already removing, waiting for that removal', async () => {
    const { id } = await runtime.create(demoInstanceSpec(SUITE, image));
    await runtime.start(id);
    // Three at once: the engine answers the later ones 409 "removal ... already in progress" or 404.
    const results = await Promise.allSettled([1, 2, 3].map(() => runtime.remove(id, { force: true })));
    expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'removed'))).toEqual([
      'removed',
      'removed',
      'removed',
    ]);
    expect(await runtime.inspect(id)).toBeUndefined();
  });

  it('refuses a second container with the same instance name', async () => {
    const spec = demoInstanceSpec(SUITE, image);
    await runtime.create(spec);
    await expect(runtime.create(spec)).rejects.toMatchObject({ code: DockerErrorCode.ContainerNameConflict });
  });

  it('refuses to stop or remove a container not labelled as glint’s, and leaves it running', async () => {
    const foreign = await docker.createContainer({
      Image: image.ref,
      name: `glint-demo-foreign-${testRunId()}`,
      Labels: { ...testLabels(SUITE), 'glint.app': 'demo' },
      HostConfig: { Init: true },
    });
    await foreign.start();
    await expect(runtime.remove(foreign.id, { force: true })).rejects.toMatchObject({
      code: DockerErrorCode.NotManaged,
      message: expect.stringContaining('glint.managed=true'),
    });
    await expect(runtime.stop(foreign.id)).rejects.toMatchObject({ code: DockerErrorCode.NotManaged });
    expect((await foreign.inspect()).State.Running).toBe(true);
    expect((await runtime.list({ labels: testLabels(SUITE) })).map((c) => c.id)).not.toContain(foreign.id);
  });

  it('runs a command inside the container and returns its exit code and output', async () => {
    const { id } = await runtime.create(demoInstanceSpec(SUITE, image));
    await runtime.start(id);
    const result = await runtime.exec(id, [
      'node',
      '-e',
      'console.log("out"); console.error("err"); process.exit(3)',
    ]);
    expect(result.exitCode).toBe(3);
    expect(result.output).toContain('out');
    expect(result.output).toContain('err');
  });

  it('gives up on a command that outlives its bound with a transient ExecTimeout', async () => {
    const engine = new DockerEngine();
    const { id } = await runtime.create(demoInstanceSpec(SUITE, image));
    await runtime.start(id);
    const err = await execInContainer(engine, id, ['sleep', '30'], { timeoutMs: 500 }).catch((e) => e);
    expect(err).toMatchObject({ code: DockerErrorCode.ExecTimeout, name: 'TransientError' });
    const quick = await execInContainer(engine, id, ['sh', '-c', 'echo out; echo err >&2; exit 4'], {
      timeoutMs: 30_000,
    });
    expect(quick.exitCode).toBe(4);
    expect(quick.output).toContain('out');
    expect(quick.output).toContain('err');
  });

  it('refuses to create from an image the engine has not pulled, saying to pull it', async () => {
    const missing = {
      ...image,
      digest: `sha256:${'3'.repeat(64)}`,
      ref: `${image.repository}@sha256:${'3'.repeat(64)}`,
    };
    await expect(runtime.create(demoInstanceSpec(SUITE, missing))).rejects.toMatchObject({
      code: DockerErrorCode.ImageNotPresent,
    });
  });

  it('reports a container that does not exist as absent, and its port as an error', async () => {
    expect(await runtime.inspect('glint-no-such-container')).toBeUndefined();
    await expect(runtime.hostPort('glint-no-such-container', 8080)).rejects.toMatchObject({
      code: DockerErrorCode.ContainerNotFound,
    });
  });
});
