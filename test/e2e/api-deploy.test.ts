import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GlintConfigInput, validateConfig } from '../../src/config/index.ts';
import { connectLoadBalancer, LocalBinaryValidator, structureFromConfig } from '../../src/lb/index.ts';
import { silentLogger } from '../../src/log/index.ts';
import { removeTestContainers } from '../support/cleanup.ts';
import { type DaemonProcess, spawnDaemon } from '../support/daemon-process.ts';
import { type DemoRegistry, pushDemoVersion, startDemoRegistry } from '../support/demo-registry.ts';
import { type EtcdHandle, startEtcd } from '../support/etcd-container.ts';
import { freePort } from '../support/free-port.ts';
import { startHaproxy } from '../support/haproxy-container.ts';
import { testLabels, testRunId } from '../support/labels.ts';
import { readEvents } from '../support/sse-reader.ts';
import { waitFor } from '../support/wait-for.ts';

const SUITE = 'e2e-api-deploy';
// Not 'web': Docker is shared with other suites, and a glint engine takes every container of its app
// name on the engine for its own.
const APP = 'apideploy';
const VERSIONS = ['1.0.0', '1.1.0', '1.2.0'];
const DEPLOY_TOKEN = 'e2e-deploy-token-0123456789abcdef';
const READ_TOKEN = 'e2e-read-token-0123456789abcdef';

let etcd: EtcdHandle;
let registry: DemoRegistry;
let dir: string;
let daemon: DaemonProcess;
let api: string;

function declaration(apiPort: number, frontendPort: number): GlintConfigInput {
  return {
    etcd: { endpoints: [etcd.endpoint], leaseTtl: '2s' },
    registries: { [registry.host]: { insecure: true } },
    haproxy: { runDir: join(dir, 'haproxy') },
    api: {
      listen: `127.0.0.1:${apiPort}`,
      tokenFile: join(dir, 'api-token'),
      tokens: [
        { name: 'ci', role: 'deploy', token: { fromEnv: 'E2E_DEPLOY_TOKEN' } },
        { name: 'dashboard', role: 'read', token: { fromFile: join(dir, 'read-token') } },
      ],
    },
    apps: {
      [APP]: {
        image: `${registry.host}/demo-app`,
        version: VERSIONS[0]!,
        instances: 2,
        port: 8080,
        // Every container the daemon starts carries the suite's labels, so teardown finds it.
        labels: testLabels(SUITE),
        health: { type: 'http', path: '/healthz', interval: '500ms', timeout: '500ms', healthyThreshold: 1 },
        strategy: {
          maxSurge: 1,
          maxUnavailable: 0,
          minHealthyTime: '500ms',
          drainTimeout: '2s',
          stopTimeout: '3s',
        },
        routing: { frontendPort },
      },
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field in the tests
type Answer = { status: number; headers: Headers; json: any };

async function call(
  method: string,
  path: string,
  o: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...o.headers };
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${api}${path}`, {
    method,
    headers,
    ...(o.body === undefined ? {} : { body: JSON.stringify(o.body) }),
  });
  return { status: res.status, headers: res.headers, json: await res.json() };
}

const appState = async () => (await call('GET', `/v1/apps/${APP}`, { token: READ_TOKEN })).json;

const withOutput = (err: Error) => {
  throw new Error(`${err.message}; daemon output: ${daemon.output().slice(-3000)}`);
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ad-'));
  mkdirSync(join(dir, 'haproxy'));
  writeFileSync(join(dir, 'read-token'), `${READ_TOKEN}\n`, { mode: 0o600 });
  const [apiPort, frontendPort] = [await freePort(), await freePort()];
  etcd = await startEtcd(SUITE);
  registry = await startDemoRegistry(SUITE);
  for (const v of VERSIONS) await pushDemoVersion(registry, 'demo-app', v);
  const decl = declaration(apiPort, frontendPort);
  const parsed = validateConfig(decl);
  if (!parsed.ok) throw new Error(`test declaration is invalid: ${JSON.stringify(parsed.issues)}`);
  // The first file HAProxy starts from, as `npm start` has it before the daemon runs.
  await connectLoadBalancer(structureFromConfig(parsed.config, process.cwd()), {
    logger: silentLogger(),
    validator: new LocalBinaryValidator(),
  });
  await startHaproxy(SUITE, join(dir, 'haproxy'));
  const file = join(dir, 'scheduler.config.ts');
  writeFileSync(file, `export default ${JSON.stringify(decl)};\n`);
  api = `http://127.0.0.1:${apiPort}`;
  daemon = spawnDaemon(file, { apiUrl: api, dir, env: { E2E_DEPLOY_TOKEN: DEPLOY_TOKEN } });
  // The leader brings the app to its declaration: 1.0.0 on two ready instances.
  await waitFor(
    async () => {
      const app = await appState();
      return app.running?.version === VERSIONS[0] && app.instances?.ready === 2 && !app.activeDeployment
        ? true
        : undefined;
    },
    { timeoutMs: 180_000, intervalMs: 500, what: `${APP} running ${VERSIONS[0]}` },
  ).catch(withOutput);
}, 420_000);

afterAll(async () => {
  if (daemon && daemon.proc.exitCode === null && daemon.proc.signalCode === null) {
    daemon.proc.kill('SIGKILL');
    await daemon.exited;
  }
  await removeTestContainers({ runId: testRunId(), suite: SUITE });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the REST API of a real daemon', () => {
  it('answers 401 without a valid token and 403 for a role that may not deploy', async () => {
    expect((await call('GET', '/v1/apps')).status).toBe(401);
    expect((await call('GET', '/v1/apps', { token: 'not-a-token' })).status).toBe(401);
    const forbidden = await call('POST', `/v1/apps/${APP}/deployments`, {
      token: READ_TOKEN,
      body: { version: VERSIONS[1] },
    });
    expect(forbidden.status).toBe(403);
    expect(forbidden.json.error.code).toBe('Forbidden');
    const admin = readFileSync(join(dir, 'api-token'), 'utf8').trim();
    expect((await call('GET', '/v1/deployments', { token: admin })).status).toBe(200);
    expect(daemon.output()).not.toContain(DEPLOY_TOKEN);
    expect(daemon.output()).not.toContain(READ_TOKEN);
  });

  it('refuses a version that does not resolve with 422 naming the newest stamped tags', async () => {
    const res = await call('POST', `/v1/apps/${APP}/deployments`, {
      token: DEPLOY_TOKEN,
      body: { version: '9.9.9' },
    });
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe('TagNotFound');
    // The registry's storage is shared with other suites: which tags are newest is not ours to say.
    expect(res.json.error.message).toMatch(/9\.9\.9.*newest stamped tags: \d+\.\d+\.\d+/);
    expect((await appState()).activeDeployment).toBeNull();
  });

  it('deploys, answers 409 to a concurrent deploy, replays an idempotent retry, and ?wait= ends it', async () => {
    const headers = { 'idempotency-key': `e2e-${testRunId()}` };
    const started = await call('POST', `/v1/apps/${APP}/deployments`, {
      token: DEPLOY_TOKEN,
      body: { version: VERSIONS[1], reason: 'e2e' },
      headers,
    });
    expect(started.status).toBe(202);
    const id = started.json.id as string;
    expect(started.headers.get('location')).toBe(`/v1/deployments/${id}`);

    const concurrent = await call('POST', `/v1/apps/${APP}/deployments`, {
      token: DEPLOY_TOKEN,
      body: { version: VERSIONS[2] },
    });
    expect(concurrent.status).toBe(409);
    expect(concurrent.json.error.details.activeDeploymentId).toBe(id);

    const retry = await call('POST', `/v1/apps/${APP}/deployments`, {
      token: DEPLOY_TOKEN,
      body: { version: VERSIONS[1], reason: 'e2e' },
      headers,
    });
    expect(retry.status).toBe(202);
    expect(retry.json.id).toBe(id);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');

    const done = await call('GET', `/v1/deployments/${id}?wait=240`, { token: READ_TOKEN });
    expect(done.status).toBe(200);
    expect(
      done.json.state,
      `error: ${JSON.stringify(done.json.error)}; daemon: ${daemon.output().slice(-2000)}`,
    ).toBe('succeeded');
    const app = await appState();
    expect(app.running.version).toBe(VERSIONS[1]);
    expect(app.instances.list).toHaveLength(2);
    for (const i of app.instances.list) expect(i).toMatchObject({ version: VERSIONS[1], health: 'ready' });
    // A deploy token gets no more than the baseline: every capability dropped, no new privileges.
    const inspected = await new Docker().getContainer(app.instances.list[0].containerId).inspect();
    expect(inspected.HostConfig.CapDrop?.map((c: string) => c.replace(/^CAP_/, ''))).toEqual(['ALL']);
    expect(inspected.HostConfig.SecurityOpt).toContain('no-new-privileges:true');
    expect(inspected.HostConfig.Privileged).toBe(false);
    const mine = await call('GET', `/v1/deployments?app=${APP}&state=succeeded`, { token: READ_TOKEN });
    expect(
      mine.json.deployments.filter((d: { idempotencyKey?: string; id: string }) => d.id === id),
    ).toHaveLength(1);
  }, 300_000);

  it('streams the deployment on /v1/events and still stops on SIGTERM with the stream open', async () => {
    const stream = await fetch(`${api}/v1/events?app=${APP}&types=deployment`, {
      headers: { authorization: `Bearer ${READ_TOKEN}` },
    });
    const started = await call('POST', `/v1/apps/${APP}/deployments`, {
      token: DEPLOY_TOKEN,
      body: { version: VERSIONS[2] },
    });
    expect(started.status).toBe(202);
    const { events } = await readEvents(stream, (evs) => evs.some((e) => e.event === 'deployment:finished'));
    const finished = JSON.parse(events.find((e) => e.event === 'deployment:finished')!.data);
    expect(finished).toMatchObject({ id: started.json.id, state: 'succeeded', to: { version: VERSIONS[2] } });

    const open = await fetch(`${api}/v1/events`, { headers: { authorization: `Bearer ${READ_TOKEN}` } });
    const reading = readEvents(open, () => false);
    daemon.proc.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
    expect((await reading).ended).toBe(true);
  }, 300_000);
});
