import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DockerEngine,
  DockerRuntime,
  type EngineEvent,
  EngineEvents,
  pullImage,
  RegistryAuthenticator,
  RegistryClient,
  type ResolvedImage,
  resolveImage,
} from '../../../src/docker/index.ts';
import { removeTestContainers } from '../../support/cleanup.ts';
import { startRelay } from '../../support/connection-relay.ts';
import { demoInstanceSpec } from '../../support/demo-instance.ts';
import {
  type DemoRegistry,
  forgetRegistryImages,
  pushDemoVersion,
  startDemoRegistry,
} from '../../support/demo-registry.ts';
import { testLabels, testRunId } from '../../support/labels.ts';
import { waitFor } from '../../support/wait-for.ts';

const run = promisify(execFile);
const SUITE = 'docker-engine-events';
const engine = new DockerEngine();
const runtime = new DockerRuntime(engine);
let image: ResolvedImage;
let registry: DemoRegistry;

/** Collects events; `seen` waits until one matching the predicate arrived. */
function recorder() {
  const events: EngineEvent[] = [];
  const states: string[] = [];
  return {
    events,
    states,
    onEvent: (e: EngineEvent) => events.push(e),
    onConnection: (s: string) => states.push(s),
    seen: (match: (e: EngineEvent) => boolean, what: string) =>
      waitFor(() => events.find(match), { timeoutMs: 20_000, what }),
  };
}

async function startDemo(app = 'events'): Promise<{ id: string; instance: string }> {
  const spec = demoInstanceSpec(SUITE, image, { app });
  const { id } = await runtime.create(spec);
  await runtime.start(id);
  return { id, instance: spec.instance };
}

beforeAll(async () => {
  registry = await startDemoRegistry(SUITE);
  const repo = `events-${testRunId()}`;
  await pushDemoVersion(registry, repo, '1.0.0');
  const client = new RegistryClient({ authenticator: new RegistryAuthenticator() });
  image = await resolveImage(client, { repository: `${registry.host}/${repo}`, requested: '1.0.0' });
  await pullImage(engine, image.ref);
});

afterAll(async () => {
  await removeTestContainers({ runId: testRunId(), suite: SUITE });
  if (registry) await forgetRegistryImages(registry.host);
});

describe('EngineEvents', () => {
  it('reports start, a kill from outside (die 137), and destroy of glint containers', async () => {
    const rec = recorder();
    const stream = new EngineEvents(engine, { ...rec, labels: testLabels(SUITE) });
    await stream.start();
    try {
      const { id, instance } = await startDemo();
      const started = await rec.seen((e) => e.kind === 'start' && e.containerId === id, 'start event');
      expect(started).toMatchObject({ app: 'events', instance, name: `glint-events-${instance}` });

      await run('docker', ['kill', id]);
      const died = await rec.seen((e) => e.kind === 'die' && e.containerId === id, 'die event');
      expect(died.exitCode).toBe(137);

      await runtime.remove(id);
      await rec.seen((e) => e.kind === 'destroy' && e.containerId === id, 'destroy event');
      expect(rec.events.filter((e) => e.containerId === id).map((e) => e.kind)).toEqual([
        'start',
        'die',
        'destroy',
      ]);
    } finally {
      await stream.close();
    }
  });

  it('ignores containers that are not glint’s', async () => {
    const rec = recorder();
    const stream = new EngineEvents(engine, { ...rec, labels: testLabels(SUITE) });
    await stream.start();
    try {
      const { stdout } = await run('docker', [
        'run',
        '-d',
        '--label',
        `glint.test=${testRunId()}`,
        '--label',
        `glint.test.suite=${SUITE}`,
        image.ref,
      ]);
      const foreignId = stdout.trim();
      const { id } = await startDemo();
      await rec.seen((e) => e.kind === 'start' && e.containerId === id, 'start of the glint container');
      expect(rec.events.some((e) => e.containerId === foreignId)).toBe(false);
    } finally {
      await stream.close();
    }
  });

  it('reconnects after the engine connection drops and delivers what happened meanwhile', async () => {
    const proxy = await startRelay(
      { path: '/var/run/docker.sock' },
      { path: join(tmpdir(), `glint-engine-relay-${process.pid}-${Date.now()}.sock`) },
    );
    const rec = recorder();
    const stream = new EngineEvents(new DockerEngine({ socketPath: proxy.path! }), {
      ...rec,
      labels: testLabels(SUITE),
      initialDelayMs: 100,
      maxDelayMs: 400,
    });
    await stream.start();
    try {
      const { id } = await startDemo();
      await rec.seen((e) => e.kind === 'start' && e.containerId === id, 'start before the drop');

      await proxy.cut();
      await waitFor(() => (rec.states.includes('disconnected') ? true : undefined), {
        what: 'disconnect noticed',
      });
      await run('docker', ['kill', id]);
      await proxy.restore();

      const died = await rec.seen(
        (e) => e.kind === 'die' && e.containerId === id,
        'die delivered after reconnect',
      );
      expect(died.exitCode).toBe(137);
      expect(rec.states.filter((s) => s === 'connected').length).toBeGreaterThanOrEqual(2);
      expect(rec.events.filter((e) => e.containerId === id && e.kind === 'start')).toHaveLength(1);
    } finally {
      await stream.close();
      await proxy.close();
    }
  });
});
