import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';

export type DaemonProcess = {
  proc: ChildProcess;
  apiUrl: string;
  dir: string;
  /** Everything the daemon printed so far (stdout and stderr). */
  output: () => string;
  exited: Promise<number | null>;
};

export type DaemonDeclaration = {
  etcdEndpoint: string;
  frontendPort: number;
  leaseTtl?: string;
  dir?: string;
  /** Extra environment for the daemon (e.g. a PATH whose `haproxy` refuses every file). */
  env?: Record<string, string>;
};

/**
 * Writes a one-app declaration into a fresh folder (token file, HAProxy run folder) and runs
 * `glint daemon` on it as a child process, the way a user starts it. The caller ends it by pid.
 */
export async function startDaemonProcess(decl: DaemonDeclaration): Promise<DaemonProcess> {
  const dir = decl.dir ?? mkdtempSync(join(tmpdir(), 'glint-daemon-'));
  const apiPort = await freePort();
  const config = {
    etcd: { endpoints: [decl.etcdEndpoint], leaseTtl: decl.leaseTtl ?? '10s' },
    api: { listen: `127.0.0.1:${apiPort}`, tokenFile: join(dir, 'api-token') },
    haproxy: { runDir: join(dir, 'haproxy') },
    apps: {
      // A registry port nothing listens on and no instances: these daemons exercise leadership
      // and the API, and must never start containers (a user's stack may serve 127.0.0.1:5000).
      web: {
        image: '127.0.0.1:1/demo-app',
        version: '1.0.0',
        instances: 0,
        port: 8080,
        health: { type: 'http', path: '/healthz' },
        routing: { frontendPort: decl.frontendPort },
      },
    },
  };
  const file = join(dir, `scheduler-${apiPort}.config.ts`);
  writeFileSync(file, `export default ${JSON.stringify(config)};\n`);
  return spawnDaemon(file, {
    apiUrl: `http://127.0.0.1:${apiPort}`,
    dir,
    ...(decl.env ? { env: decl.env } : {}),
  });
}

/**
 * Runs `glint daemon --config <file>` as a child process on a declaration the caller wrote
 * (`apiUrl` is where that declaration's `api.listen` answers). The caller ends it by pid.
 */
export function spawnDaemon(
  file: string,
  opts: { apiUrl: string; dir: string; env?: Record<string, string>; nodeFlags?: readonly string[] },
): DaemonProcess {
  // The memory settings every launch point passes (scripts/start.sh, the systemd unit, the image).
  const proc = spawn(
    process.execPath,
    [
      '--max-semi-space-size=2',
      '--heap-growing-percent=20',
      ...(opts.nodeFlags ?? []),
      'bin/glint.js',
      'daemon',
      '--config',
      file,
    ],
    {
      env: {
        ...process.env,
        MALLOC_ARENA_MAX: '2',
        MALLOC_MMAP_THRESHOLD_: '65536',
        MALLOC_TRIM_THRESHOLD_: '131072',
        GLINT_API_TOKEN: '',
        ...opts.env,
      },
    },
  );
  let output = '';
  // Also kept in the daemon's folder, to read while a long run (a bench) is still going.
  const log = createWriteStream(join(opts.dir, `daemon-${proc.pid}.log`));
  proc.stdout?.on('data', (c) => {
    output += c;
    log.write(c);
  });
  proc.stderr?.on('data', (c) => {
    output += c;
    log.write(c);
  });
  proc.once('exit', () => log.end());
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { proc, apiUrl: opts.apiUrl, dir: opts.dir, output: () => output, exited };
}

export type Readiness = {
  status: number;
  body: { ready: boolean; checks: Record<string, { ok: boolean }>; isLeader: boolean; leader: string | null };
};

export async function readReadiness(apiUrl: string): Promise<Readiness> {
  const res = await fetch(`${apiUrl}/readyz`);
  return { status: res.status, body: (await res.json()) as Readiness['body'] };
}
