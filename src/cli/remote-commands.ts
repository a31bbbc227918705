import type { Command } from 'commander';
import { ApiCallError, ApiClient } from './api-client.ts';
import { type DeploymentAnswer, describeDeployment } from './deployment-progress.ts';
import { ExitCode } from './exit-codes.ts';
import { followDeployment, type Output } from './follow-deployment.ts';
import { SseParser } from './sse-parser.ts';

export type RemoteEnv = { url: string; token: string | undefined; out: Output; err: Output };
type WaitOpts = { wait?: boolean; timeout: string };

const DEFAULT_WAIT_S = '1800';

/**
 * The commands that drive a running daemon through its REST API (GLINT_URL, GLINT_TOKEN):
 * deployments and their control, status, events. Each resolves to an exit code.
 */
export function addRemoteCommands(program: Command, env: RemoteEnv, done: (code: number) => void): void {
  const api = new ApiClient({ url: env.url, token: env.token });
  const run = (work: () => Promise<number>) => async () => {
    try {
      done(await work());
    } catch (err) {
      if (!(err instanceof ApiCallError)) throw err;
      env.err.write(`glint: ${err.message}\n`);
      done(err.exitCode);
    }
  };
  const started = async (d: DeploymentAnswer, opts: WaitOpts) => {
    env.out.write(`started ${describeDeployment(d)}\n`);
    if (!opts.wait) return ExitCode.Ok;
    return followDeployment(api, d.id, env.out, seconds(opts.timeout));
  };
  const waitOptions = (c: Command) =>
    c
      .option('-w, --wait', 'follow the deployment until it ends; exit 0 only if it succeeded')
      .option('--timeout <seconds>', 'with --wait: give up waiting after this long (exit 5)', DEFAULT_WAIT_S);

  waitOptions(
    program
      .command('deploy')
      .description('deploy a version (semver, latest, sha256:… digest or image reference) of an app')
      .argument('<app>')
      .argument('<version>')
      .option('--reason <text>', 'why, for people reading the deployment later')
      .option('--canary <n>', 'start n new instances and wait for `glint promote`')
      .option('--idempotency-key <key>', 'a retried call with the same key gets the same deployment'),
  ).action(
    (
      app: string,
      version: string,
      opts: WaitOpts & { reason?: string; canary?: string; idempotencyKey?: string },
    ) =>
      run(async () => {
        const body = {
          ...deployTarget(version),
          ...(opts.reason ? { reason: opts.reason } : {}),
          ...(opts.canary ? { strategy: { canary: Number(opts.canary) } } : {}),
        };
        const headers = opts.idempotencyKey ? { 'idempotency-key': opts.idempotencyKey } : undefined;
        const d = await api.call<DeploymentAnswer>('POST', `/v1/apps/${seg(app)}/deployments`, {
          body,
          ...(headers ? { headers } : {}),
        });
        return started(d, opts);
      })(),
  );

  waitOptions(
    program
      .command('rotate')
      .description('replace every instance of an app with a fresh one')
      .argument('<app>'),
  ).action((app: string, opts: WaitOpts) =>
    run(async () => started(await api.call('POST', `/v1/apps/${seg(app)}/rotations`, { body: {} }), opts))(),
  );

  waitOptions(
    program
      .command('rollback')
      .description('go back to the previous release of an app (or a version it ran)')
      .argument('<app>')
      .argument('[version]'),
  ).action((app: string, version: string | undefined, opts: WaitOpts) =>
    run(async () =>
      started(
        await api.call('POST', `/v1/apps/${seg(app)}/rollback`, { body: version ? { version } : {} }),
        opts,
      ),
    )(),
  );

  waitOptions(
    program
      .command('scale')
      .description('set how many instances an app runs')
      .argument('<app>')
      .argument('<instances>'),
  ).action((app: string, instances: string, opts: WaitOpts) =>
    run(async () =>
      started(
        await api.call('PUT', `/v1/apps/${seg(app)}/scale`, { body: { instances: Number(instances) } }),
        opts,
      ),
    )(),
  );

  program
    .command('wait')
    .description('follow a deployment until it ends; exit 0 only if it succeeded')
    .argument('<deployment>')
    .option('--timeout <seconds>', 'give up waiting after this long (exit 5)', DEFAULT_WAIT_S)
    .action((id: string, opts: { timeout: string }) =>
      run(() => followDeployment(api, id, env.out, seconds(opts.timeout)))(),
    );

  for (const action of ['pause', 'resume', 'cancel', 'promote'] as const)
    program
      .command(action)
      .description(`${action} a running deployment`)
      .argument('<deployment>')
      .action((id: string) =>
        run(async () => {
          const d = await api.call<DeploymentAnswer>('POST', `/v1/deployments/${seg(id)}/${action}`);
          env.out.write(`${describeDeployment(d)}: ${d.state}\n`);
          return ExitCode.Ok;
        })(),
      );

  program
    .command('status')
    .description('apps with their versions and instances (one app: its instances)')
    .argument('[app]')
    .action((app: string | undefined) =>
      run(async () => {
        if (app) env.out.write(instanceTable(await api.call('GET', `/v1/apps/${seg(app)}`)));
        else env.out.write(appTable((await api.call<{ apps: AppRow[] }>('GET', '/v1/apps')).apps));
        return ExitCode.Ok;
      })(),
    );

  program
    .command('nodes')
    .description('the Docker engines: state, last contact, labels and instances')
    .action(() =>
      run(async () => {
        env.out.write(nodeTable((await api.call<{ nodes: NodeRow[] }>('GET', '/v1/nodes')).nodes));
        return ExitCode.Ok;
      })(),
    );

  program
    .command('events')
    .description('print deployment and step events as they happen (Ctrl-C ends)')
    .option('--app <app>', 'only this app')
    .option('--types <types>', 'only these event types or namespaces, comma-separated (deployment,step)')
    .action((opts: { app?: string; types?: string }) =>
      run(async () => {
        const query = new URLSearchParams({
          ...(opts.app ? { app: opts.app } : {}),
          ...(opts.types ? { types: opts.types } : {}),
        }).toString();
        const res = await api.stream(`/v1/events${query ? `?${query}` : ''}`);
        const parser = new SseParser();
        const decoder = new TextDecoder();
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
          for (const e of parser.push(decoder.decode(chunk, { stream: true })))
            env.out.write(`${eventLine(e.type, e.data)}\n`);
        return ExitCode.Ok;
      })(),
    );
}

/** `sha256:…` is a digest, anything with a `/` an image reference, the rest a version. */
export function deployTarget(version: string): { version: string } | { digest: string } | { image: string } {
  if (/^sha256:[0-9a-f]{64}$/.test(version)) return { digest: version };
  if (version.includes('/')) return { image: version };
  return { version };
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0)
    throw new ApiCallError(`--timeout must be a number of seconds, not "${value}"`, ExitCode.Usage);
  return n;
}

const seg = (s: string) => encodeURIComponent(s);

type AppRow = {
  name: string;
  declared: { version: string; instances: number };
  running: { version: string } | null;
  instances: { wanted: number; ready: number };
  activeDeployment: { id: string; kind: string; state: string } | null;
};

/** A fixed-width table; the widest cell of each column sets its width. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

export function appTable(apps: AppRow[]): string {
  return table(
    ['APP', 'DECLARED', 'RUNNING', 'READY', 'DEPLOYMENT'],
    apps.map((a) => [
      a.name,
      a.declared.version,
      a.running?.version ?? '-',
      `${a.instances.ready}/${a.instances.wanted}`,
      a.activeDeployment
        ? `${a.activeDeployment.kind} ${a.activeDeployment.id} ${a.activeDeployment.state}`
        : '-',
    ]),
  );
}

type NodeRow = {
  name: string;
  state: string;
  lastContact: string | null;
  lastError?: string;
  hostIp: string;
  /** Absent from a daemon older than the address modes: those publish on `hostIp`. */
  addressMode?: 'host' | 'container';
  labels: Record<string, string>;
  capacity: number | null;
  instances: number | null;
};

export function nodeTable(nodes: NodeRow[]): string {
  return table(
    ['NODE', 'STATE', 'ADDRESS', 'INSTANCES', 'LABELS', 'LAST CONTACT'],
    nodes.map((n) => [
      n.name,
      n.lastError && n.state !== 'up' ? `${n.state} (${n.lastError})` : n.state,
      n.addressMode === 'container' ? 'container IPs' : n.hostIp,
      `${n.instances ?? '?'}${n.capacity === null ? '' : `/${n.capacity}`}`,
      Object.entries(n.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(',') || '-',
      n.lastContact ?? 'never',
    ]),
  );
}

type InstanceRow = {
  id: string;
  node: string;
  version: string;
  address: string | null;
  health: string;
  ageSeconds: number;
};

export function instanceTable(app: AppRow & { instances: { list: InstanceRow[] } }): string {
  return (
    appTable([app]) +
    '\n' +
    table(
      ['INSTANCE', 'NODE', 'VERSION', 'ADDRESS', 'HEALTH', 'AGE'],
      app.instances.list.map((i) => [
        i.id,
        i.node,
        i.version,
        i.address ?? '-',
        i.health,
        `${i.ageSeconds}s`,
      ]),
    )
  );
}

/**
 * `deployment:finished web d-1a2b succeeded`, `step:started web d-1a2b start 4f2a1c`, or
 * `config:changed web started d-1a2b at revision 42: config/web/GREETING`.
 */
export function eventLine(type: string, data: string): string {
  let d: Record<string, unknown>;
  try {
    d = JSON.parse(data) as Record<string, unknown>;
  } catch {
    return `${type} ${data}`;
  }
  if (type.startsWith('deployment:')) return `${type} ${d.app} ${d.id} ${d.kind} ${d.state}`;
  if (type.startsWith('step:'))
    return `${type} ${d.app} ${d.deploymentId} ${d.kind} ${d.instance}${d.message ? `: ${d.message}` : ''}`;
  if (type === 'config:changed') {
    const keys = Array.isArray(d.keys) && d.keys.length > 0 ? d.keys.join(', ') : 'no key named';
    const started = d.deploymentId ? ` ${d.deploymentId}` : '';
    const why = d.deploymentId || !d.message ? '' : ` (${d.message})`;
    return `${type} ${d.app} ${d.outcome}${started}${why} at revision ${d.revision}: ${keys}`;
  }
  return `${type} ${data}`;
}
