import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type GlintConfigInput, validateConfig } from '../../src/config/index.ts';
import { connectLoadBalancer, LocalBinaryValidator, structureFromConfig } from '../../src/lb/index.ts';
import { silentLogger } from '../../src/log/index.ts';
import { removeTestContainers } from './cleanup.ts';
import { type DaemonProcess, spawnDaemon } from './daemon-process.ts';
import { type DemoRegistry, pushDemoVersion, startDemoRegistry } from './demo-registry.ts';
import { type EtcdHandle, startEtcd } from './etcd-container.ts';
import { freePort } from './free-port.ts';
import { startHaproxy } from './haproxy-container.ts';
import { testRunId } from './labels.ts';

// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field in the tests
export type ApiAnswer = { status: number; headers: Headers; json: any };

export type DaemonStackContext = {
  etcdEndpoint: string;
  registryHost: string;
  dir: string;
  apiPort: number;
  /** Free loopback ports for the apps' frontends, as many as asked for. */
  ports: number[];
};

export type DaemonStack = {
  etcd: EtcdHandle;
  registry: DemoRegistry;
  daemon: DaemonProcess;
  dir: string;
  api: string;
  ports: number[];
  /** The generated admin token. */
  adminToken: () => string;
  /** An API call with the admin token unless another is given. */
  call(
    method: string,
    path: string,
    o?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<ApiAnswer>;
  /** Rethrows `err` with the daemon's last output, for a failed wait. */
  withOutput(err: Error): never;
  close(): Promise<void>;
};

/**
 * A real stack and a real daemon process on it: etcd, a registry holding the demo versions,
 * HAProxy (master-worker, started from the file the declaration renders, as `npm start` has
 * it) and `glint daemon` on a declaration written by the caller. Everything carries the suite's
 * labels; `close` kills the daemon by pid and removes the suite's containers.
 */
export async function startDaemonStack(
  suite: string,
  opts: {
    versions: readonly string[];
    ports: number;
    declaration: (ctx: DaemonStackContext) => GlintConfigInput;
    env?: Record<string, string>;
    /** node flags after the ones every launch point passes (a bench comparing V8 settings). */
    nodeFlags?: readonly string[];
    /** Runs once the registry holds the versions, before the declaration is written and the daemon starts. */
    prepare?: (registryHost: string, etcdEndpoint: string) => Promise<void>;
  },
): Promise<DaemonStack> {
  const dir = mkdtempSync(join(tmpdir(), 'ds-'));
  let daemon: DaemonProcess | undefined;
  const close = async () => {
    if (daemon && daemon.proc.exitCode === null && daemon.proc.signalCode === null) {
      daemon.proc.kill('SIGKILL');
      await daemon.exited;
    }
    await removeTestContainers({ runId: testRunId(), suite });
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    mkdirSync(join(dir, 'haproxy'));
    const apiPort = await freePort();
    const ports: number[] = [];
    for (let i = 0; i < opts.ports; i++) ports.push(await freePort());
    const etcd = await startEtcd(suite);
    const registry = await startDemoRegistry(suite);
    for (const v of opts.versions) await pushDemoVersion(registry, 'demo-app', v);
    await opts.prepare?.(registry.host, etcd.endpoint);
    const decl = opts.declaration({
      etcdEndpoint: etcd.endpoint,
      registryHost: registry.host,
      dir,
      apiPort,
      ports,
    });
    const parsed = validateConfig(decl);
    if (!parsed.ok) throw new Error(`test declaration is invalid: ${JSON.stringify(parsed.issues)}`);
    await connectLoadBalancer(structureFromConfig(parsed.config, process.cwd()), {
      logger: silentLogger(),
      validator: new LocalBinaryValidator(),
    });
    await startHaproxy(suite, join(dir, 'haproxy'));
    const file = join(dir, 'scheduler.config.ts');
    writeFileSync(file, `export default ${JSON.stringify(decl)};\n`);
    const api = `http://127.0.0.1:${apiPort}`;
    const started = spawnDaemon(file, {
      apiUrl: api,
      dir,
      ...(opts.env ? { env: opts.env } : {}),
      ...(opts.nodeFlags ? { nodeFlags: opts.nodeFlags } : {}),
    });
    daemon = started;
    const tokenFile = parsed.config.api.tokenFile;
    const adminToken = () => readFileSync(tokenFile, 'utf8').trim();
    const call: DaemonStack['call'] = async (method, path, o = {}) => {
      const headers: Record<string, string> = {
        authorization: `Bearer ${o.token ?? adminToken()}`,
        ...o.headers,
      };
      if (o.body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${api}${path}`, {
        method,
        headers,
        ...(o.body === undefined ? {} : { body: JSON.stringify(o.body) }),
      });
      return { status: res.status, headers: res.headers, json: await res.json() };
    };
    return {
      etcd,
      registry,
      daemon: started,
      dir,
      api,
      ports,
      adminToken,
      call,
      withOutput: (err: Error) => {
        throw new Error(`${err.message}; daemon output: ${started.output().slice(-3000)}`);
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
