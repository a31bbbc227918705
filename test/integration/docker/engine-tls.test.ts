import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerEngine } from '../../../src/docker/index.ts';
import { engineFor } from '../../../src/rollout-wiring.ts';
import { waitFor } from '../../support/wait-for.ts';

/**
 * A second, real dockerd that speaks only TLS, with certificates made here by openssl. It runs
 * in a network namespace of its own (unshare, so the namespace dies with it), reached over a
 * veth pair: started with `--bridge none` in the host's namespace, dockerd would delete the
 * docker0 bridge the machine's engine uses. It runs no containers; it only has to check who
 * talks to it.
 */
let dir: string;
let dockerd: ChildProcess | undefined;
let exited: Promise<void> = Promise.resolve();
let log = '';
const id = randomBytes(3).toString('hex');
const hostEnd = `gtt${id}h`;
// A /30 of the shared address space (RFC 6598), picked at random; .1 is ours, .2 the engine's.
const base = `100.${64 + randomInt(64)}.${randomInt(256)}`;
const last = randomInt(64) * 4;
const hostAddress = `${base}.${last + 1}`;
const engineAddress = `${base}.${last + 2}`;
const PORT = 2376;
const file = (name: string) => join(dir, name);

function run(command: string, ...args: string[]) {
  execFileSync(command, args, { cwd: dir, stdio: 'pipe' });
}

/** A CA, a server certificate for the engine's address and a client certificate. */
function makeCertificates() {
  run(
    'openssl',
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=glint test CA',
    '-keyout',
    'ca-key.pem',
    '-out',
    'ca.pem',
  );
  const sign = (name: string, ext: string) => {
    writeFileSync(file(`${name}.ext`), ext);
    run(
      'openssl',
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      `${name}-key.pem`,
      '-out',
      `${name}.csr`,
    );
    run(
      'openssl',
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca-key.pem',
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    );
  };
  sign('server', `subjectAltName=IP:${engineAddress}\nextendedKeyUsage=serverAuth\n`);
  sign('client', 'extendedKeyUsage=clientAuth\n');
}

/** Links the engine's namespace (that of process `pid`) to ours. */
function linkNamespace(pid: number) {
  const inside = (...args: string[]) => run('nsenter', `--net=/proc/${pid}/ns/net`, ...args);
  run('ip', 'link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', String(pid));
  run('ip', 'addr', 'add', `${hostAddress}/30`, 'dev', hostEnd);
  run('ip', 'link', 'set', hostEnd, 'up');
  inside('ip', 'addr', 'add', `${engineAddress}/30`, 'dev', 'eth0');
  inside('ip', 'link', 'set', 'eth0', 'up');
  inside('ip', 'link', 'set', 'lo', 'up');
}

const dockerdArgs = () => [
  '--config-file',
  file('daemon.json'),
  '--data-root',
  file('data'),
  '--exec-root',
  file('exec'),
  '--pidfile',
  file('dockerd.pid'),
  '--host',
  `unix://${file('docker.sock')}`,
  '--host',
  `tcp://${engineAddress}:${PORT}`,
  '--tlsverify',
  '--tlscacert',
  file('ca.pem'),
  '--tlscert',
  file('server.pem'),
  '--tlskey',
  file('server-key.pem'),
  '--bridge',
  'none',
  '--iptables=false',
  '--ip-masq=false',
  '--ip-forward=false',
  '--storage-driver',
  'vfs',
];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tls-engine-'));
  makeCertificates();
  for (const sub of ['data', 'exec', 'tmp']) mkdirSync(file(sub));
  writeFileSync(file('daemon.json'), '{}');
  // The shell waits in the new namespace until the link is up, then becomes dockerd.
  const script = 'while [ ! -e "$0" ]; do sleep 0.1; done; exec dockerd "$@"';
  dockerd = spawn('unshare', ['--net', '--', 'sh', '-c', script, file('linked'), ...dockerdArgs()], {
    // Its own TMPDIR: the run's scratch folder is no place for a daemon's temporary files.
    env: { ...process.env, TMPDIR: file('tmp') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  dockerd.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  });
  const child = dockerd;
  exited = new Promise((resolve) => child.once('exit', () => resolve()));
  const pid = child.pid!;
  const ours = readlinkSync('/proc/self/ns/net');
  await waitFor(() => (readlinkSync(`/proc/${pid}/ns/net`) !== ours ? true : undefined), {
    what: 'unshare to make the namespace',
  });
  linkNamespace(pid);
  writeFileSync(file('linked'), '');
  const local = new DockerEngine({ socketPath: file('docker.sock') });
  await waitFor(() => local.ping().then(() => true), {
    timeoutMs: 60_000,
    what: `the TLS dockerd (log: ${log.slice(-500)})`,
  });
}, 120_000);

afterAll(async () => {
  const running = () => dockerd?.exitCode === null && dockerd.signalCode === null;
  if (dockerd?.pid && running()) {
    dockerd.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
    if (running()) dockerd.kill('SIGKILL');
    await exited;
  }
  // The pair goes with the namespace; this only catches a setup that failed half way.
  try {
    execFileSync('ip', ['link', 'del', hostEnd], { stdio: 'ignore' });
  } catch {}
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('an engine over tcp with TLS', () => {
  const endpoint = () => ({
    name: 'tls-node',
    url: `tcp://${engineAddress}:${PORT}`,
    tls: { ca: file('ca.pem'), cert: file('client.pem'), key: file('client-key.pem') },
  });

  it('answers glint with its client certificate', async () => {
    await expect(engineFor(endpoint()).ping()).resolves.toBeUndefined();
  });

  it('turns away a client that trusts it but shows no certificate', async () => {
    const noCert = new DockerEngine({
      protocol: 'https',
      host: engineAddress,
      port: PORT,
      ca: readFileSync(file('ca.pem')),
    });
    await expect(noCert.ping()).rejects.toThrow();
  });

  it('is not reached over plain HTTP', async () => {
    const plain = engineFor({ name: 'tls-node', url: `tcp://${engineAddress}:${PORT}`, insecure: true });
    await expect(plain.ping()).rejects.toThrow();
  });
});
