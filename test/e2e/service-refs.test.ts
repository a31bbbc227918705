import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GlintConfigInput, validateConfig } from '../../src/config/index.ts';
import { connectLoadBalancer, LocalBinaryValidator, structureFromConfig } from '../../src/lb/index.ts';
import { silentLogger } from '../../src/log/index.ts';
import { removeTestContainers } from '../support/cleanup.ts';
import { type DaemonProcess, spawnDaemon } from '../support/daemon-process.ts';
import { type DemoRegistry, pushDemoVersion, startDemoRegistry } from '../support/demo-registry.ts';
import { type EtcdHandle, startEtcd } from '../support/etcd-container.ts';
import { expectEveryRequestAnswered } from '../support/expect-every-request-answered.ts';
import { freePort } from '../support/free-port.ts';
import { startHaproxy } from '../support/haproxy-container.ts';
import { formatLoad, ROLLOUT_LOAD, startLoad } from '../support/http-load.ts';
import { testLabels, testRunId } from '../support/labels.ts';
import { waitFor } from '../support/wait-for.ts';

const SUITE = 'e2e-service-refs';
// Names of this file's own: a daemon takes every container of its app names on the engine.
const WEB = 'refweb';
const API = 'refapi';

let etcd: EtcdHandle;
let registry: DemoRegistry;
let dir: string;
let daemon: DaemonProcess;
let api: string;
let token: string;
let webPort: number;

function app(frontendPort: number, env: Record<string, string> = {}) {
  return {
    image: `${registry.host}/demo-app`,
    version: '1.0.0',
    instances: 2,
    port: 8080,
    env,
    labels: testLabels(SUITE),
    health: { type: 'http', path: '/healthz', interval: '500ms', timeout: '500ms', healthyThreshold: 1 },
    strategy: {
      maxSurge: 1,
      maxUnavailable: 0,
      minHealthyTime: '500ms',
      drainTimeout: '3s',
      stopTimeout: '3s',
    },
    routing: { frontendPort },
  } as const;
}

function declaration(apiPort: number, apiFrontend: number): GlintConfigInput {
  return {
    etcd: { endpoints: [etcd.endpoint], leaseTtl: '2s' },
    registries: { [registry.host]: { insecure: true } },
    haproxy: { runDir: join(dir, 'haproxy') },
    api: { listen: `127.0.0.1:${apiPort}`, tokenFile: join(dir, 'api-token') },
    apps: {
      [WEB]: app(webPort, { UPSTREAM_URL: `http://{{service:${API}}}/` }),
      [API]: app(apiFrontend),
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field in the tests
async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${api}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: await res.json() };
}

type WebAnswer = {
  status: number;
  body: { version?: string; upstream?: { version?: string }; error?: string };
};

async function webAnswer(): Promise<WebAnswer> {
  const res = await fetch(`http://127.0.0.1:${webPort}/`, { headers: { connection: 'close' } });
  return { status: res.status, body: (await res.json()) as WebAnswer['body'] };
}

// The daemon's own lines, without the request log of the polls above.
const withOutput = (err: Error) => {
  const lines = daemon
    .output()
    .split('\n')
    .filter((l) => !l.includes('"msg":"request"'));
  throw new Error(`${err.message}; daemon output: ${lines.join('\n').slice(-4000)}`);
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sr-'));
  mkdirSync(join(dir, 'haproxy'));
  const [apiPort, apiFrontend] = [await freePort(), await freePort()];
  webPort = await freePort();
  etcd = await startEtcd(SUITE);
  registry = await startDemoRegistry(SUITE);
  for (const v of ['1.0.0', '1.1.0']) await pushDemoVersion(registry, 'demo-app', v);
  const decl = declaration(apiPort, apiFrontend);
  const parsed = validateConfig(decl);
  if (!parsed.ok) throw new Error(`test declaration is invalid: ${JSON.stringify(parsed.issues)}`);
  // The first file HAProxy starts from, without service addresses: the daemon adds them by a reload.
  await connectLoadBalancer(structureFromConfig(parsed.config, process.cwd()), {
    logger: silentLogger(),
    validator: new LocalBinaryValidator(),
  });
  await startHaproxy(SUITE, join(dir, 'haproxy'));
  const file = join(dir, 'scheduler.config.ts');
  writeFileSync(file, `export default ${JSON.stringify(decl)};\n`);
  api = `http://127.0.0.1:${apiPort}`;
  daemon = spawnDaemon(file, { apiUrl: api, dir });
  await waitFor(
    async () => {
      try {
        token = readFileSync(join(dir, 'api-token'), 'utf8').trim();
      } catch {
        return undefined;
      }
      return token ? true : undefined;
    },
    { timeoutMs: 60_000, what: 'the admin token file' },
  ).catch(withOutput);
  // The leader brings both apps to their declaration, and web reaches api through glint-lb.
  await waitFor(
    async () => {
      const apps = await Promise.all([WEB, API].map((a) => call('GET', `/v1/apps/${a}`)));
      const settled = apps.every(
        (a) =>
          a.json.running?.version === '1.0.0' && a.json.instances?.ready === 2 && !a.json.activeDeployment,
      );
      if (!settled) return undefined;
      const answer = await webAnswer();
      return answer.status === 200 && answer.body.upstream?.version === '1.0.0' ? true : undefined;
    },
    {
      timeoutMs: 240_000,
      intervalMs: 500,
      what: `${WEB} and ${API} running 1.0.0, web answering through api`,
    },
  ).catch(withOutput);
}, 480_000);

afterAll(async () => {
  if (daemon && daemon.proc.exitCode === null && daemon.proc.signalCode === null) {
    daemon.proc.kill('SIGKILL');
    await daemon.exited;
  }
  await removeTestContainers({ runId: testRunId(), suite: SUITE });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const containerIds = async (name: string): Promise<string[]> =>
  ((await call('GET', `/v1/apps/${name}`)).json.instances.list as Array<{ containerId: string }>)
    .map((i) => i.containerId)
    .sort();

const deploymentsOf = async (name: string): Promise<Array<{ id: string; kind: string }>> =>
  (await call('GET', `/v1/deployments?app=${name}`)).json.deployments;

describe('a service reference through a real daemon: {{service:api}} is api’s HAProxy frontend', () => {
  it('deploys api under load on web: no client of web sees an error, web shows the new api, and web is not replaced', async () => {
    const webBefore = await containerIds(WEB);
    const webDeploymentsBefore = await deploymentsOf(WEB);
    expect(webBefore).toHaveLength(2);
    expect(webDeploymentsBefore).toHaveLength(1);

    const load = startLoad({
      url: `http://127.0.0.1:${webPort}/`,
      ...ROLLOUT_LOAD,
      rate: 150,
      maxDurationSec: 300,
    });
    try {
      const started = await call('POST', `/v1/apps/${API}/deployments`, { version: '1.1.0', reason: 'e2e' });
      expect(started.status).toBe(202);
      const done = await call('GET', `/v1/deployments/${started.json.id}?wait=240`);
      expect(done.json.state, `error: ${JSON.stringify(done.json.error)}`).toBe('succeeded');
    } finally {
      load.stop();
    }
    const summary = await load.result;
    console.log(formatLoad(`${API} 1.0.0 → 1.1.0, load on ${WEB}`, summary));
    // The deploy takes a few seconds at least (two instances, each checked healthy and held 500 ms).
    expect(summary.errorCodes).toEqual({});
    expectEveryRequestAnswered(summary, { atLeast: 251 });

    // Every answer of web now carries api's new version (its old instances are gone).
    for (let i = 0; i < 8; i++) {
      const answer = await webAnswer();
      expect(answer.status).toBe(200);
      expect(answer.body.upstream?.version).toBe('1.1.0');
      expect(answer.body.version).toBe('1.0.0');
    }
    expect(await containerIds(WEB)).toEqual(webBefore);
    expect((await deploymentsOf(WEB)).map((d) => d.id)).toEqual(webDeploymentsBefore.map((d) => d.id));
  }, 360_000);
});
