import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { removeTestContainers } from '../../support/cleanup.ts';
import { buildDemoApp } from '../../support/demo-app-image.ts';
import { startDemoInstance } from '../../support/demo-instances.ts';
import { testRunId } from '../../support/labels.ts';
import { type RegistryHandle, startRegistry } from '../../support/registry-container.ts';

const run = promisify(execFile);
const SUITE = 'stack-registry-smoke';
const docker = new Docker();
let registry: RegistryHandle;

beforeAll(async () => {
  registry = await startRegistry(SUITE);
});

afterAll(async () => {
  await removeTestContainers({ runId: testRunId(), suite: SUITE });
});

it('round-trips a stamped demo-app through a real registry and runs it by digest', async () => {
  const { ref } = await buildDemoApp('1.0.0', { registryHost: registry.host, revision: 'smoke-rev' });
  const pushedDigest = (await docker.getImage(ref).inspect()).RepoDigests.find((d) =>
    d.startsWith(registry.host),
  );
  expect(pushedDigest).toMatch(/@sha256:[0-9a-f]{64}$/);

  await docker.getImage(ref).remove({ force: true });
  await run('docker', ['pull', '-q', pushedDigest!]);

  const image = await docker.getImage(pushedDigest!).inspect();
  expect(image.Config.Labels['org.opencontainers.image.version']).toBe('1.0.0');
  expect(image.Config.Labels['org.opencontainers.image.revision']).toBe('smoke-rev');
  expect(image.RepoDigests).toContain(pushedDigest);

  const instance = await startDemoInstance(SUITE, pushedDigest!, 'smoke');
  const body = (await (await fetch(`http://127.0.0.1:${instance.port}/version`)).json()) as {
    version: string;
  };
  expect(body.version).toBe('1.0.0');
});
