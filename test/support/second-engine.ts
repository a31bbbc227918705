/**
 * A second, real Docker engine on this machine, for tests of glint across several engines: a
 * dockerd of its own in a network namespace of its own, reached over a veth pair on a private
 * /24 (10.213.x.0/24, one no route or address of the machine overlaps, claimed against
 * concurrent runs through its record in /run/glint-test-engines). Needs root.
 *
 * - dockerd runs under `nsenter --net` (not `ip netns exec`, which remounts /sys and hides the
 *   cgroup mounts), with `--tls=false` (a plain TCP listener otherwise waits 15 s on purpose),
 *   its own config file (the machine's daemon.json is the first engine's), data root, exec root,
 *   pidfile, containerd namespace and cgroup parent (the engine's name, which is how its
 *   containers' processes are found), and a TMPDIR inside its folder that lives as long as it.
 *   Its folder is under the test run's TMPDIR.
 * - Registry: image references stay what they are for the first engine,
 *   `127.0.0.1:<port>/demo-app@sha256:...`, and a declaration says the same `registries` key and
 *   `image` whichever engine an instance lands on. Inside the namespace 127.0.0.1 is the
 *   namespace's own loopback, so two relays carry the registry's port there: one in the test
 *   process on the host end of the link (`hostSideAddress:<port>` → the registry's published
 *   127.0.0.1:<port>), and one inside the namespace (its 127.0.0.1:<port> → `hostSideAddress:<port>`).
 *   127.0.0.0/8 is an insecure registry to dockerd by default, so nothing else is needed; the
 *   engine also trusts `hostSideAddress:<port>` (`--insecure-registry`) for a test that names the
 *   registry by the link's address. Pulls cross the veth, so a cut link cuts them too. (Publishing
 *   the registry on the host end instead would need `--insecure-registry` on the first engine,
 *   whose flags are not the tests' to change.)
 * - `kill()` is a lost node: dockerd (by its pidfile), containerd, shims, port proxies and the
 *   containers' processes, all SIGKILLed. The relay stays: it stands for the network.
 * - `cutLink()` is a partition: packets between host and namespace vanish (no reset, no ICMP),
 *   as on a real network; see cutNamespaceLink for why the namespace end is the one taken down.
 * - Measured here, for glint's timeouts: a Docker call to a killed engine fails at once
 *   (ECONNREFUSED, a few ms); across a cut link a call on a new connection fails after ~135 s
 *   (ETIMEDOUT, the kernel's SYN retries), and one on a kept-alive connection (Node's agent keeps
 *   them) gets no answer for minutes (still none after 400 s: the kernel retransmits for ~15 min).
 *   After `kill()` and `restart()` the engine lists the killed containers as exited (code 255).
 * - Cleanup: `stop()` removes everything and may be called again; the global setup and teardown
 *   sweep what a crashed run left (sweepSecondEngines).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { DockerEngine, type DockerNode } from '../../src/docker/index.ts';
import { type ConnectionRelay, startRelay } from './connection-relay.ts';
import { testRunId } from './labels.ts';
import {
  createNamespaceLink,
  cutNamespaceLink,
  linkOf,
  type NamespaceLink,
  namespacePath,
  prefixesInUse,
  prefixesOverlap,
  restoreNamespaceLink,
} from './namespace-link.ts';
import {
  claimRecord,
  dockerdOf,
  ENGINE_NAME_PREFIX,
  type EngineRecord,
  engineProcesses,
  killProcesses,
  processStartTime,
  removeEngineRemains,
} from './second-engine-remains.ts';
import { waitFor } from './wait-for.ts';

export type SecondEngine = {
  /** The endpoint's name in glint's declaration, e.g. `node-b`. */
  name: string;
  /** Namespace, cgroup parent and folder name (`gt2-<run>-<octet>`). */
  id: string;
  /** `http://<namespace address>:2375`. */
  url: string;
  /** The namespace's address: instances publish there, HAProxy reaches them there. */
  hostIp: string;
  /** The host end of the link: what the engine's containers (as `glint-lb`) and pulls reach. */
  hostSideAddress: string;
  /** The engine's unix socket, for the docker CLI (`docker -H unix://...`) or dockerode. */
  socketPath: string;
  /** The endpoint as glint's DockerNodes takes it. */
  node: DockerNode;
  /** SIGKILLs dockerd and every process of the engine and its containers: a lost node. */
  kill(): Promise<void>;
  /** Starts dockerd again on the same data root (ending what runs of it first); resolves when it answers. */
  restart(): Promise<void>;
  /** A partition: nothing crosses the link until restoreLink. */
  cutLink(): Promise<void>;
  restoreLink(): Promise<void>;
  /** Removes everything: processes, containers, folders, link and namespace. Safe to call again. */
  stop(): Promise<void>;
};

export type SecondEngineOptions = {
  /** The suite starting it, kept in its record for whoever finds it left over. */
  suite: string;
  /** Endpoint name; default `node-b`. */
  name?: string;
  /** The test registry's port on 127.0.0.1, carried into the namespace (see the top comment). */
  registryPort?: number;
};

const ENGINE_PORT = 2375;
/** Measured on 2 busy cores: a cold start answers in 3–7 s, a restart after a kill in 3–8 s. */
const ANSWER_DEADLINE_MS = 90_000;

export async function startSecondEngine(opts: SecondEngineOptions): Promise<SecondEngine> {
  if (process.getuid?.() !== 0)
    throw new Error(
      'startSecondEngine needs root: it makes a network namespace (ip netns) and runs dockerd in it (nsenter); run the integration tests as root',
    );
  const { record, link } = await claimSubnet(opts.suite);
  const root = record.root;
  const endpoint = opts.name ?? 'node-b';
  const engine = new DockerEngine({ host: link.namespaceAddress, port: ENGINE_PORT, protocol: 'http' });
  let hostRelay: ConnectionRelay | undefined;
  let namespaceRelay: ChildProcess | undefined;

  const stop = async () => {
    await hostRelay?.close();
    hostRelay = undefined;
    await removeEngineRemains(record);
  };
  const launch = async () => {
    const dockerd = spawnDockerd(record, link, opts.registryPort);
    await untilAnswering(engine, dockerd, root);
  };
  const killEngine = async () => {
    const keep = namespaceRelay?.pid;
    const targets = new Set([dockerdOf(root), ...engineProcesses(record.name)]);
    await killProcesses([...targets].filter((pid): pid is number => pid !== undefined && pid !== keep));
  };

  try {
    await createNamespaceLink(link);
    await mkdir(join(root, 'tmp'), { recursive: true });
    await writeFile(join(root, 'daemon.json'), '{}\n');
    if (opts.registryPort !== undefined) {
      hostRelay = await relayToLoopback(link.hostSideAddress, opts.registryPort);
      namespaceRelay = await startNamespaceRelay(record.name, opts.registryPort, link.hostSideAddress);
    }
    await launch();
  } catch (err) {
    await stop().catch((cleanup: Error) => {
      throw new AggregateError([err, cleanup], `second engine ${record.name} failed to start`);
    });
    throw err;
  }

  return {
    name: endpoint,
    id: record.name,
    url: `http://${link.namespaceAddress}:${ENGINE_PORT}`,
    hostIp: link.namespaceAddress,
    hostSideAddress: link.hostSideAddress,
    socketPath: join(root, 'docker.sock'),
    node: { name: endpoint, engine, hostIp: link.namespaceAddress, serviceAddress: link.hostSideAddress },
    kill: killEngine,
    restart: async () => {
      await killEngine();
      // A killed process's pid may linger as a zombie or be another process's by now, and
      // dockerd takes a pidfile naming a live pid for a dockerd or containerd still running
      // ("libcontainerd: containerd is still running", then a timeout): a rebooted node has none.
      for (const pidfile of ['dockerd.pid', 'exec/containerd/containerd.pid'])
        await rm(join(root, pidfile), { force: true });
      await launch();
    },
    cutLink: () => cutNamespaceLink(link),
    restoreLink: () => restoreNamespaceLink(link),
    stop,
  };
}

/** Claims the first free 10.213.x.0/24 (from a random start, so concurrent runs rarely race). */
async function claimSubnet(suite: string): Promise<{ record: EngineRecord; link: NamespaceLink }> {
  const runId = testRunId();
  const tag = createHash('sha256').update(runId).digest('hex').slice(0, 4);
  const inUse = await prefixesInUse();
  const first = Math.floor(Math.random() * 256);
  const ownerStartTime = processStartTime(process.pid) ?? '';
  for (let i = 0; i < 256; i++) {
    const octet = (first + i) % 256;
    const prefix = `10.213.${octet}`;
    if (inUse.some((p) => prefixesOverlap(p, `${prefix}.0/24`))) continue;
    const name = `${ENGINE_NAME_PREFIX}${tag}-${octet}`;
    const link = linkOf(name, prefix);
    const record: EngineRecord = {
      name,
      hostLink: link.hostLink,
      octet,
      runId,
      suite,
      ownerPid: process.pid,
      ownerStartTime,
      root: join(tmpdir(), name),
    };
    if (await claimRecord(record)) return { record, link };
  }
  throw new Error('no free /24 in 10.213.0.0/16 for a second engine: every one is routed or claimed');
}

function spawnDockerd(record: EngineRecord, link: NamespaceLink, registryPort?: number): ChildProcess {
  const { root, name } = record;
  const args = [
    `--net=${namespacePath(name)}`,
    'dockerd',
    '--config-file',
    join(root, 'daemon.json'),
    '--data-root',
    join(root, 'data'),
    '--exec-root',
    join(root, 'exec'),
    '--pidfile',
    join(root, 'dockerd.pid'),
    '-H',
    `unix://${join(root, 'docker.sock')}`,
    '-H',
    `tcp://${link.namespaceAddress}:${ENGINE_PORT}`,
    '--tls=false',
    '--containerd-namespace',
    name,
    '--containerd-plugins-namespace',
    `${name}-plugins`,
    '--cgroup-parent',
    name,
    ...(registryPort === undefined ? [] : ['--insecure-registry', `${link.hostSideAddress}:${registryPort}`]),
  ];
  const log = openSync(join(root, 'dockerd.log'), 'a');
  try {
    // Detached: no signal meant for the test runner's terminal reaches it; stop() and the
    // sweep end it by pid.
    const child = spawn('nsenter', args, {
      detached: true,
      stdio: ['ignore', log, log],
      env: { ...process.env, TMPDIR: join(root, 'tmp') },
    });
    child.unref();
    return child;
  } finally {
    closeSync(log);
  }
}

async function untilAnswering(engine: DockerEngine, dockerd: ChildProcess, root: string): Promise<void> {
  let ended: string | undefined;
  dockerd.once('error', (err) => {
    ended = `could not start: ${err.message}`;
  });
  dockerd.once('exit', (code, signal) => {
    ended = `exited with ${signal ?? `code ${code}`}`;
  });
  const answered = await waitFor(
    async () => {
      if (ended) return false;
      await engine.ping(AbortSignal.timeout(2_000));
      return true;
    },
    { timeoutMs: ANSWER_DEADLINE_MS, intervalMs: 100, what: `second engine at ${engine.description}` },
  );
  if (!answered) {
    const log = readFileSync(join(root, 'dockerd.log'), 'utf8').split('\n').slice(-15).join('\n');
    throw new Error(`second engine's dockerd ${ended}; the end of its log:\n${log}`);
  }
}

/**
 * Carries 127.0.0.1:<port> to the host end of the link, unless the port is already served on
 * every address there (a port testcontainers publishes, the registry's included, is bound on
 * 0.0.0.0): then the host end reaches it as it is.
 */
async function relayToLoopback(hostSideAddress: string, port: number): Promise<ConnectionRelay | undefined> {
  try {
    return await startRelay({ port }, { host: hostSideAddress, port });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') return undefined;
    throw err;
  }
}

async function startNamespaceRelay(
  namespace: string,
  port: number,
  targetHost: string,
): Promise<ChildProcess> {
  const script = fileURLToPath(new URL('./namespace-relay-child.ts', import.meta.url));
  const child = spawn(
    'nsenter',
    [
      `--net=${namespacePath(namespace)}`,
      process.execPath,
      '--import',
      'tsx',
      script,
      JSON.stringify({ listenPort: port, targetHost, targetPort: port }),
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  let ended: string | undefined;
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  child.once('error', (e) => {
    ended = e.message;
  });
  child.once('exit', (code) => {
    ended = `exited with code ${code}`;
  });
  await waitFor(
    () => {
      if (ended) throw new Error(`relay ${ended}: ${err.slice(-500)}`);
      return out.includes('listening') ? true : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 50, what: `the registry relay in namespace ${namespace}` },
  );
  // Its stdin is its lifeline: it ends when this process does, and holds this one open no longer.
  child.unref();
  for (const pipe of [child.stdin, child.stdout, child.stderr]) (pipe as Socket | null)?.unref();
  return child;
}

/**
 * Copies an image the first engine has, by a name it knows (a tag: `docker save` carries tags,
 * not repo digests), into the second engine, as `docker save | docker load` does (~1.5 s for the
 * demo app). glint pulls by digest, which such a copy does not make present: use it for images
 * a test runs itself, not for ones glint launches.
 */
export async function loadImage(engine: SecondEngine, ref: string): Promise<void> {
  const archive = await new Docker().getImage(ref).get();
  const target = new Docker({ socketPath: engine.socketPath });
  const answer = await target.loadImage(archive);
  await new Promise<void>((resolve, reject) => {
    target.modem.followProgress(
      answer,
      (err: Error | null) => (err ? reject(err) : resolve()),
      (event: { error?: string; errorDetail?: { message?: string } }) => {
        if (event.error) reject(new Error(`loading ${ref}: ${event.errorDetail?.message ?? event.error}`));
      },
    );
  });
}
