import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DockerEngine,
  DockerRuntime,
  pullImage,
  RegistryAuthenticator,
  RegistryClient,
  type ResolvedImage,
  resolveImage,
} from '../../../src/docker/index.ts';
import {
  type HealthCheck,
  probeDockerHealth,
  probeExec,
  probeHttp,
  probeTcp,
  runProbe,
  waitUntilHealthy,
} from '../../../src/health/index.ts';
import { removeTestContainers } from '../../support/cleanup.ts';
import { pushImage } from '../../support/demo-app-image.ts';
import { DEMO_HEALTH, demoInstanceSpec } from '../../support/demo-instance.ts';
import {
  type DemoRegistry,
  forgetRegistryImages,
  pushDemoVersion,
  startDemoRegistry,
} from '../../support/demo-registry.ts';
import { testRunId } from '../../support/labels.ts';
import { waitFor } from '../../support/wait-for.ts';

const run = promisify(execFile);
const SUITE = 'health-probes';
const engine = new DockerEngine();
const runtime = new DockerRuntime(engine);
let plain: ResolvedImage;
let withHealthcheck: ResolvedImage;
let registry: DemoRegistry;

/**
 * The check both the exec probe and the image's HEALTHCHECK run: a shell builtin that fails
 * when the instance was started with FAIL_HEALTH, and prints a fake secret that must not reach
 * a probe's reason. A shell test, not `node -e`: starting node in a 0.5-CPU container on a
 * loaded machine can outlast any short timeout, and what is tested here is the probe.
 */
const SHELL_CHECK = ['sh', '-c', 'echo "db password=hunter2"; test -z "$FAIL_HEALTH"'];

/** The demo app plus a Docker HEALTHCHECK, the way an image author would add one. */
async function pushHealthcheckVariant(registry: DemoRegistry, repo: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'glint-hc-'));
  const ref = `${registry.host}/${repo}:healthcheck`;
  try {
    const cmd = JSON.stringify(SHELL_CHECK);
    await writeFile(
      join(dir, 'Dockerfile'),
      `FROM ${registry.host}/${repo}:1.0.0\nHEALTHCHECK --interval=1s --timeout=30s --retries=1 CMD ${cmd}\n`,
    );
    await run('docker', ['build', '-q', '-t', ref, dir]);
    await pushImage(ref);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function startDemo(image: ResolvedImage, env: Record<string, string> = {}) {
  const { id } = await runtime.create(demoInstanceSpec(SUITE, image, { env }));
  await runtime.start(id);
  return { id, port: await runtime.hostPort(id, 8080) };
}

async function healthyDemo(image: ResolvedImage, env: Record<string, string> = {}) {
  const demo = await startDemo(image, env);
  await waitFor(async () => ((await fetch(`http://127.0.0.1:${demo.port}/version`)).ok ? true : undefined));
  return demo;
}

beforeAll(async () => {
  registry = await startDemoRegistry(SUITE);
  const repo = `health-${testRunId()}`;
  await pushDemoVersion(registry, repo, '1.0.0');
  await pushHealthcheckVariant(registry, repo);
  const client = new RegistryClient({ authenticator: new RegistryAuthenticator() });
  plain = await resolveImage(client, { repository: `${registry.host}/${repo}`, requested: '1.0.0' });
  withHealthcheck = await resolveImage(client, {
    repository: `${registry.host}/${repo}`,
    requested: 'healthcheck',
  });
  await pullImage(engine, plain.ref);
  await pullImage(engine, withHealthcheck.ref);
});

afterAll(async () => {
  await removeTestContainers({ runId: testRunId(), suite: SUITE });
  if (registry) await forgetRegistryImages(registry.host);
});

describe('HTTP probe against the demo app', () => {
  // Generous: a probe that should pass must not fail because a loaded machine answered late.
  const http = (port: number, path = '/healthz', timeoutMs = 10_000) =>
    probeHttp({ host: '127.0.0.1', port, path, timeoutMs });

  it('passes on a healthy instance', async () => {
    const { port } = await healthyDemo(plain);
    expect(await http(port)).toEqual({ ok: true, reason: 'status 200' });
  });

  it('fails with status 503 when the app reports itself failing (FAIL_HEALTH)', async () => {
    const { port } = await healthyDemo(plain, { FAIL_HEALTH: '1' });
    expect(await http(port)).toEqual({ ok: false, reason: 'status 503' });
  });

  it('fails with a timeout when the answer is slower than the probe (RESPONSE_DELAY_MS)', async () => {
    const { port } = await healthyDemo(plain, { RESPONSE_DELAY_MS: '3000' });
    expect(await http(port, '/', 300)).toEqual({ ok: false, reason: 'timeout after 300ms' });
  });

  it('fails on the connection while the app has not started listening (STARTUP_DELAY_MS)', async () => {
    const { port } = await startDemo(plain, { STARTUP_DELAY_MS: '60000' });
    const result = await http(port);
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/^connection (closed before a response|reset|refused)$/);
  });
});

describe('TCP probe', () => {
  it('passes on a listening instance and fails with connection refused once it is gone', async () => {
    const { id, port } = await healthyDemo(plain);
    expect(await probeTcp({ host: '127.0.0.1', port, timeoutMs: 10_000 })).toEqual({
      ok: true,
      reason: 'connected',
    });
    await runtime.stop(id);
    expect(await probeTcp({ host: '127.0.0.1', port, timeoutMs: 10_000 })).toEqual({
      ok: false,
      reason: 'connection refused',
    });
  });

  it('passes through Docker’s port proxy before the app listens, which is why HTTP is preferred', async () => {
    const { port } = await startDemo(plain, { STARTUP_DELAY_MS: '60000' });
    expect((await probeTcp({ host: '127.0.0.1', port, timeoutMs: 10_000 })).ok).toBe(true);
    expect((await probeHttp({ host: '127.0.0.1', port, path: '/healthz', timeoutMs: 10_000 })).ok).toBe(
      false,
    );
  });
});

describe('exec probe inside the container', () => {
  it('passes when the command exits 0', async () => {
    const { id } = await healthyDemo(plain);
    expect(await probeExec(runtime, { containerId: id, command: SHELL_CHECK, timeoutMs: 30_000 })).toEqual({
      ok: true,
      reason: 'exit code 0',
    });
  });

  it('fails with the exit code only, leaving the command’s output out', async () => {
    const { id } = await healthyDemo(plain, { FAIL_HEALTH: '1' });
    expect(await probeExec(runtime, { containerId: id, command: SHELL_CHECK, timeoutMs: 30_000 })).toEqual({
      ok: false,
      reason: 'exit code 1',
    });
  });

  it('fails with the timeout when the command hangs', async () => {
    const { id } = await healthyDemo(plain);
    expect(await probeExec(runtime, { containerId: id, command: ['sleep', '5'], timeoutMs: 300 })).toEqual({
      ok: false,
      reason: 'timeout after 300ms',
    });
  });
});

describe('Docker HEALTHCHECK probe', () => {
  const docker = (containerId: string) => probeDockerHealth(runtime, { containerId, timeoutMs: 10_000 });

  it('passes once Docker reports the image’s own check healthy', async () => {
    const { id } = await startDemo(withHealthcheck);
    const result = await waitFor(
      async () => {
        const r = await docker(id);
        return r.ok ? r : undefined;
      },
      { timeoutMs: 60_000, what: 'docker health healthy' },
    );
    expect(result.reason).toBe('docker health healthy');
  });

  it('fails with the exit code of Docker’s last check, not its output, when the image’s check fails', async () => {
    const { id } = await startDemo(withHealthcheck, { FAIL_HEALTH: '1' });
    const result = await waitFor(
      async () => {
        const r = await docker(id);
        return r.reason.startsWith('docker health unhealthy') ? r : undefined;
      },
      { timeoutMs: 60_000, what: 'docker health unhealthy' },
    );
    expect(result).toEqual({ ok: false, reason: 'docker health unhealthy (exit code 1)' });
  });

  it('fails and says so when the image declares no HEALTHCHECK', async () => {
    const { id } = await healthyDemo(plain);
    expect(await docker(id)).toEqual({ ok: false, reason: 'image declares no HEALTHCHECK' });
  });
});

describe('waitUntilHealthy with the declared probe', () => {
  // A long probe timeout: the reasons asserted below must not turn into 'timeout' under load.
  const check: HealthCheck = {
    ...DEMO_HEALTH,
    timeout: 10_000,
    healthyThreshold: 2,
    unhealthyThreshold: 3,
    gracePeriod: 0,
  };

  it('waits out a slow start (STARTUP_DELAY_MS) and turns healthy', async () => {
    const { id, port } = await startDemo(plain, { STARTUP_DELAY_MS: '1500' });
    const state = await waitUntilHealthy({
      probe: (signal) => runProbe(check, { containerId: id, host: '127.0.0.1', port }, { runtime, signal }),
      policy: { ...check, gracePeriod: 10_000 },
      intervalMs: check.interval,
      deadlineMs: 60_000,
    });
    expect(state.phase).toBe('healthy');
    expect(state.checks).toBeGreaterThan(2);
  });

  it('gives up on an instance that keeps failing, naming the reason', async () => {
    const { id, port } = await healthyDemo(plain, { FAIL_HEALTH: '1' });
    await expect(
      waitUntilHealthy({
        probe: (signal) => runProbe(check, { containerId: id, host: '127.0.0.1', port }, { runtime, signal }),
        policy: check,
        intervalMs: check.interval,
        deadlineMs: 60_000,
      }),
    ).rejects.toMatchObject({ code: 'Unhealthy', message: expect.stringContaining('status 503') });
  });
});
