/**
 * Median cost of the Docker steps of one instance replacement, on the local engine with a real
 * registry: pull (digest present / absent), create+start, start-to-healthy (HTTP probe) and
 * stop+remove, for the demo app.
 *
 *   npx tsx bench/docker-lifecycle.ts [--runs 7]
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import {
  DockerEngine,
  DockerRuntime,
  pullImage,
  RegistryAuthenticator,
  RegistryClient,
  resolveImage,
} from '../src/docker/index.ts';
import { probeHttp } from '../src/health/index.ts';
import { removeTestContainers } from '../test/support/cleanup.ts';
import { pushImage } from '../test/support/demo-app-image.ts';
import { demoInstanceSpec } from '../test/support/demo-instance.ts';
import {
  type DemoRegistry,
  forgetRegistryImages,
  pushDemoVersion,
  startDemoRegistry,
} from '../test/support/demo-registry.ts';

const SUITE = 'bench-docker-lifecycle';
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 7;

process.env.GLINT_TEST_RUN ??= `bench-${randomUUID().slice(0, 8)}`;
process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
process.env.TESTCONTAINERS_HOST_OVERRIDE = '127.0.0.1';

let registryHost = 'none';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

async function timed<T>(samples: number[], step: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const out = await step();
  samples.push(performance.now() - t0);
  return out;
}

const APP_LAYER_MB = 4;

/**
 * The demo app plus a layer of its own (random bytes standing in for app code), so that
 * "digest absent" really transfers a layer; the node base layers are shared with the local
 * node:20-slim and stay, as they would on a node that ran an earlier version.
 */
async function pushBenchVersion(registry: DemoRegistry, repo: string): Promise<void> {
  const base = await pushDemoVersion(registry, `${repo}-base`, '1.0.0');
  const dir = await mkdtemp(join(tmpdir(), 'glint-bench-'));
  try {
    await writeFile(join(dir, 'payload.bin'), randomBytes(APP_LAYER_MB * 1024 * 1024));
    await writeFile(join(dir, 'Dockerfile'), `FROM ${base.ref}\nCOPY payload.bin /app/payload.bin\n`);
    const ref = `${registry.host}/${repo}:1.0.0`;
    await promisify(execFile)('docker', ['build', '-q', '-t', ref, dir]);
    await pushImage(ref);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function waitHealthy(port: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if ((await probeHttp({ host: '127.0.0.1', port, path: '/healthz', timeoutMs: 1_000 })).ok) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`demo app on port ${port} was not healthy within 30 s`);
}

async function main(): Promise<void> {
  const docker = new Docker();
  const engine = new DockerEngine();
  const runtime = new DockerRuntime(engine);
  const registry = await startDemoRegistry(SUITE);
  registryHost = registry.host;
  const repo = `bench-${process.env.GLINT_TEST_RUN}`;
  await pushBenchVersion(registry, repo);
  const client = new RegistryClient({ authenticator: new RegistryAuthenticator() });
  const image = await resolveImage(client, { repository: `${registry.host}/${repo}`, requested: '1.0.0' });
  const s = {
    pullAbsent: [] as number[],
    pullPresent: [] as number[],
    createStart: [] as number[],
    toHealthy: [] as number[],
    stopRemove: [] as number[],
  };

  for (let i = 0; i < RUNS; i++) {
    const info = await docker.getImage(image.ref).inspect();
    for (const name of [...info.RepoTags, ...info.RepoDigests])
      await docker
        .getImage(name)
        .remove({ noprune: false })
        .catch(() => undefined);
    const absent = await timed(s.pullAbsent, () => pullImage(engine, image.ref));
    if (!absent.pulled) throw new Error('expected a real pull');
    await timed(s.pullPresent, () => pullImage(engine, image.ref));

    const { id } = await timed(s.createStart, async () => {
      const created = await runtime.create(demoInstanceSpec(SUITE, image));
      await runtime.start(created.id);
      return created;
    });
    const port = await runtime.hostPort(id, 8080);
    await timed(s.toHealthy, () => waitHealthy(port));
    await timed(s.stopRemove, async () => {
      await runtime.stop(id);
      await runtime.remove(id);
    });
  }

  const ms = (xs: number[]) => `${median(xs).toFixed(1)} ms`.padStart(10);
  console.log(
    `docker lifecycle, demo app, ${RUNS} runs, medians (engine ${(await docker.version()).Version}):`,
  );
  console.log(
    `  pull, digest absent  ${ms(s.pullAbsent)}   (config + a ${APP_LAYER_MB} MB app layer; node base layers stay local)`,
  );
  console.log(`  pull, digest present ${ms(s.pullPresent)}   (skipped after an inspect)`);
  console.log(`  create + start       ${ms(s.createStart)}`);
  console.log(`  start → healthy      ${ms(s.toHealthy)}   (HTTP /healthz polled every 20 ms)`);
  console.log(`  stop + remove        ${ms(s.stopRemove)}   (SIGTERM handled by the app, Init: true)`);
  console.log(`command: npx tsx bench/docker-lifecycle.ts --runs ${RUNS}`);
}

try {
  await main();
} finally {
  await removeTestContainers({ runId: process.env.GLINT_TEST_RUN, suite: SUITE });
  await forgetRegistryImages(registryHost);
}
