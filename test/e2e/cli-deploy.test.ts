import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GlintConfigInput, validateConfig } from '../../src/config/index.ts';
import { connectEtcd, type EtcdClient } from '../../src/etcd/index.ts';
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

const SUITE = 'e2e-cli-deploy';
// Not 'web': Docker is shared with other suites, and a glint engine takes every container of its app
// name on the engine for its own.
const APP = 'clideploy';
const VERSIONS = ['1.0.0', '1.1.0', '1.2.0'];
const TOKEN = 'e2e-cli-deploy-token-0123456789abcdef';

let etcdHandle: EtcdHandle;
let etcd: EtcdClient | undefined;
let registry: DemoRegistry;
let dir: string;
let daemon: DaemonProcess;
let apiUrl: string;
let frontendPort: number;

function declaration(apiPort: number): GlintConfigInput {
  return {
    etcd: { endpoints: [etcdHandle.endpoint], leaseTtl: '2s' },
    registries: { [registry.host]: { insecure: true } },
    haproxy: { runDir: join(dir, 'haproxy') },
    api: {
      listen: `127.0.0.1:${apiPort}`,
      tokenFile: join(dir, 'api-token'),
      tokens: [{ name: 'ci', role: 'deploy', token: { fromEnv: 'E2E_CLI_TOKEN' } }],
    },
    apps: {
      [APP]: {
        image: `${registry.host}/demo-app`,
        version: VERSIONS[0]!,
        instances: 2,
        port: 8080,
        labels: testLabels(SUITE),
        health: { type: 'http', path: '/healthz', interval: '500ms', timeout: '500ms', healthyThreshold: 1 },
        strategy: {
          maxSurge: 1,
          maxUnavailable: 0,
          minHealthyTime: '500ms',
          healthyDeadline: '10s',
          drainTimeout: '2s',
          stopTimeout: '3s',
        },
        routing: { frontendPort },
        // A failing env is put in etcd for the next deploy to pick up, not rolled out by itself.
        onConfigChange: 'none',
      },
    },
  };
}

type Run = { code: number | null; stdout: string; stderr: string };

/** `glint <args>` as a CI job runs it: a child process, its output a pipe (not a terminal). */
function glint(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const proc = spawn(process.execPath, ['bin/glint.js', ...args], {
    env: { ...process.env, GLINT_URL: apiUrl, GLINT_TOKEN: TOKEN, ...env },
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c) => {
    stdout += c;
  });
  proc.stderr.on('data', (c) => {
    stderr += c;
  });
  return new Promise((resolve) => proc.once('close', (code) => resolve({ code, stdout, stderr })));
}

const withOutput = (run: Run) => `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cd-'));
  mkdirSync(join(dir, 'haproxy'));
  const apiPort = await freePort();
  frontendPort = await freePort();
  etcdHandle = await startEtcd(SUITE);
  registry = await startDemoRegistry(SUITE);
  for (const v of VERSIONS) await pushDemoVersion(registry, 'demo-app', v);
  const decl = declaration(apiPort);
  const parsed = validateConfig(decl);
  if (!parsed.ok) throw new Error(`test declaration is invalid: ${JSON.stringify(parsed.issues)}`);
  await connectLoadBalancer(structureFromConfig(parsed.config, process.cwd()), {
    logger: silentLogger(),
    validator: new LocalBinaryValidator(),
  });
  await startHaproxy(SUITE, join(dir, 'haproxy'));
  etcd = await connectEtcd({ endpoints: [etcdHandle.endpoint], prefix: '/glint' });
  const file = join(dir, 'scheduler.config.ts');
  writeFileSync(file, `export default ${JSON.stringify(decl)};\n`);
  apiUrl = `http://127.0.0.1:${apiPort}`;
  daemon = spawnDaemon(file, { apiUrl, dir, env: { E2E_CLI_TOKEN: TOKEN } });
  let last: Run | undefined;
  await waitFor(
    async () => {
      last = await glint(['status']);
      return last.code === 0 && new RegExp(`${APP}\\s+1\\.0\\.0\\s+1\\.0\\.0\\s+2/2\\s+-`).test(last.stdout)
        ? true
        : undefined;
    },
    { timeoutMs: 180_000, intervalMs: 1_000, what: `${APP} running 1.0.0 on 2 instances` },
  ).catch((err: Error) => {
    throw new Error(
      `${err.message}; last status: ${last && withOutput(last)}; daemon: ${daemon.output().slice(-3000)}`,
    );
  });
}, 420_000);

afterAll(async () => {
  if (daemon && daemon.proc.exitCode === null && daemon.proc.signalCode === null) {
    daemon.proc.kill('SIGKILL');
    await daemon.exited;
  }
  etcd?.close();
  await removeTestContainers({ runId: testRunId(), suite: SUITE });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the glint command against a real daemon', () => {
  it('deploy --wait follows a rollout under load, one line per change, and exits 0', {
    timeout: 300_000,
  }, async () => {
    const load = startLoad({
      url: `http://127.0.0.1:${frontendPort}/`,
      ...ROLLOUT_LOAD,
      rate: 150,
      maxDurationSec: 240,
    });
    let run: Run;
    try {
      run = await glint(['deploy', APP, '1.1.0', '--wait', '--reason', 'cli e2e']);
    } finally {
      load.stop();
    }
    const summary = await load.result;
    console.log(formatLoad('glint deploy --wait', summary));
    expect(run.code, withOutput(run)).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^started deploy 1\\.0\\.0 → 1\\.1\\.0 of ${APP} \\(`, 'm'));
    expect(run.stdout).toMatch(/^ {2}start \w+ on local succeeded$/m);
    expect(run.stdout).toMatch(/^ {2}retire \w+ on local succeeded$/m);
    expect(run.stdout).toMatch(/: succeeded$/m);
    expectEveryRequestAnswered(summary, { atLeast: 30 });
    const status = await glint(['status', APP]);
    expect(status.code, withOutput(status)).toBe(0);
    expect(status.stdout.match(/ 1\.1\.0 .* ready /g)).toHaveLength(2);
  });

  it('deploy --wait of a version whose instances fail exits 1 with the reason', {
    timeout: 300_000,
  }, async () => {
    await etcd!.put(`/glint/config/${APP}/FAIL_HEALTH`, '1');
    try {
      const run = await glint(['deploy', APP, '1.2.0', '--wait']);
      expect(run.code, withOutput(run)).toBe(1);
      expect(run.stdout).toMatch(/: rolled back$/m);
      expect(run.stdout).toMatch(/^ {2}reason: \w+: .+/m);
    } finally {
      await etcd!.delete(`/glint/config/${APP}/FAIL_HEALTH`);
    }
    const status = await glint(['status']);
    expect(status.stdout).toMatch(new RegExp(`${APP}\\s+1\\.0\\.0\\s+1\\.1\\.0\\s+2/2\\s+-`));
  });

  it.each<{ name: string; args: string[]; env: Record<string, string>; code: number; says: RegExp }>([
    {
      name: 'a version the registry does not have',
      args: ['deploy', APP, '9.9.9'],
      env: {},
      code: 3,
      says: /404|422/,
    },
    { name: 'an unknown app', args: ['deploy', 'nosuchapp', '1.0.0'], env: {}, code: 3, says: /UnknownApp/ },
    {
      name: 'a wrong token',
      args: ['status'],
      env: { GLINT_TOKEN: 'wrong' },
      code: 3,
      says: /401 .*set GLINT_TOKEN/,
    },
    {
      name: 'nothing listening',
      args: ['status'],
      env: { GLINT_URL: 'http://127.0.0.1:1' },
      code: 4,
      says: /could not be reached/,
    },
    {
      name: 'a missing argument',
      args: ['deploy', APP],
      env: {},
      code: 2,
      says: /missing required argument/,
    },
  ])('exits $code for $name, saying why', async ({ args, env, code, says }) => {
    const run = await glint(args, env);
    expect(run.code, withOutput(run)).toBe(code);
    expect(run.stderr).toMatch(says);
  });
});
