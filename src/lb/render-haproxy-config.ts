import { GlintError } from '../errors/index.ts';
import {
  backendName,
  frontendName,
  type LbApp,
  type LbHealthCheck,
  type LbModel,
  type LbServer,
  lbPaths,
  SHARED_FRONTEND,
  UNKNOWN_HOST_BACKEND,
} from './lb-model.ts';
import { validateLbModel } from './validate-lb-model.ts';

const DEFAULT_EXPECT_STATUS = '200-399';
/** How often HAProxy checks a server that is down. */
const DOWN_CHECK_MS = 25;

/** `2000` → `2s`, `1500` → `1500ms`: HAProxy's time format, kept short for readable files. */
export function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/**
 * Every keyword a server needs, spelled out: servers added at runtime ignore `default-server`,
 * so config-file servers get the same explicit list and both kinds behave the same. The same
 * for HTTP and TCP checks: which check runs is the backend's `option httpchk` or its absence.
 */
export function serverKeywords(check: LbHealthCheck): string[] {
  // A server that is down (a new instance still booting) is checked more often than `inter`,
  // so it is seen answering soon after it does; rising and falling keep the declared pace.
  const downinter = check.intervalMs > DOWN_CHECK_MS ? ['downinter', formatDuration(DOWN_CHECK_MS)] : [];
  return [
    'check',
    'inter',
    formatDuration(check.intervalMs),
    ...downinter,
    'rise',
    String(check.rise),
    'fall',
    String(check.fall),
    'weight',
    '1',
  ];
}

/**
 * Renders the whole haproxy.cfg from the model. Pure: the same model always gives the same
 * text (apps sorted by name, servers by id), which golden files and `haproxy -c` check.
 * Throws `LbInvalidModel` naming the app when the model could not be rendered faithfully.
 */
export function renderHaproxyConfig(model: LbModel): string {
  const problems = validateLbModel(model);
  if (problems.length > 0) {
    const list = problems.map((p) => `${p.app ? `app "${p.app}" ` : ''}${p.field}: ${p.message}`);
    throw new GlintError('LbInvalidModel', `load balancer model is invalid: ${list.join('; ')}`, {
      details: { problems },
    });
  }
  const apps = [...model.apps].sort((a, b) => a.name.localeCompare(b.name));
  const sections = [
    renderGlobal(model),
    renderDefaults(model),
    ...apps.filter((a) => a.frontend).map((a) => renderAppFrontend(a, model.serviceAddresses ?? [])),
    ...(model.sharedFrontend ? [renderSharedFrontend(model.sharedFrontend.bind, apps)] : []),
    ...apps.map(renderBackend),
    ...(model.sharedFrontend ? [renderUnknownHostBackend()] : []),
  ];
  const header = '# Rendered by glint from its load balancer model: edits here are overwritten.\n';
  return `${header}\n${sections.map((lines) => lines.join('\n')).join('\n\n')}\n`;
}

function section(title: string, body: string[]): string[] {
  return [title, ...body.map((line) => `  ${line}`)];
}

function renderGlobal(model: LbModel): string[] {
  const paths = lbPaths(model.runDir);
  return section('global', [
    'master-worker',
    `stats socket ${paths.adminSocket} mode 600 level admin expose-fd listeners`,
    `server-state-file ${paths.serverState}`,
    `hard-stop-after ${formatDuration(model.hardStopAfterMs)}`,
  ]);
}

function renderDefaults(model: LbModel): string[] {
  const t = model.timeouts;
  return section('defaults', [
    'mode http',
    // Without it a reload resets idle keep-alive client connections held by the old worker.
    'option idle-close-on-response',
    'option http-keep-alive',
    // A dead or closing instance costs a retry on another server, not a client error.
    'retries 3',
    'option redispatch 1',
    'retry-on conn-failure empty-response',
    'load-server-state-from-file global',
    `timeout connect ${formatDuration(t.connectMs)}`,
    `timeout client ${formatDuration(t.clientMs)}`,
    `timeout server ${formatDuration(t.serverMs)}`,
    `timeout http-request ${formatDuration(t.httpRequestMs)}`,
    `timeout http-keep-alive ${formatDuration(t.httpKeepAliveMs)}`,
    `timeout queue ${formatDuration(t.queueMs)}`,
  ]);
}

/**
 * An app's own frontend listens on its declared bind and, at the same port, on each service
 * address, where containers reach it as `glint-lb:<port>`. `transparent` lets those binds
 * succeed on an address the machine does not hold (yet): HAProxy 2.6 has no `freebind`
 * keyword, and `transparent` falls back to IP_FREEBIND when it may not set IP_TRANSPARENT, so a
 * missing bridge interface never stops HAProxy from starting or reloading.
 */
function renderAppFrontend(app: LbApp, serviceAddresses: readonly string[]): string[] {
  const bind = app.frontend?.bind ?? '';
  return section(`frontend ${frontendName(app.name)}`, [
    `bind ${bind}`,
    ...serviceBinds(bind, serviceAddresses).map((b) => `bind ${b} transparent`),
    `default_backend ${backendName(app.name)}`,
  ]);
}

const WILDCARD_HOSTS = new Set(['', '*', '0.0.0.0', '::', '[::]']);

/**
 * The frontend's port on each service address, sorted, without duplicates; none when the bind
 * already listens on every address, and not the bind's own address twice.
 */
export function serviceBinds(bind: string, serviceAddresses: readonly string[]): string[] {
  const at = bind.lastIndexOf(':');
  const host = bind.slice(0, at);
  const port = bind.slice(at + 1);
  if (at < 0 || WILDCARD_HOSTS.has(host)) return [];
  return [...new Set(serviceAddresses)]
    .filter((address) => address !== host)
    .sort()
    .map((address) => `${address}:${port}`);
}

function renderSharedFrontend(bind: string, apps: LbApp[]): string[] {
  const routes = apps
    .filter((a) => a.hosts?.length)
    .map(
      (a) =>
        `use_backend ${backendName(a.name)} if { req.hdr(host),field(1,:) -i ${[...(a.hosts ?? [])].sort().join(' ')} }`,
    );
  return section(`frontend ${SHARED_FRONTEND}`, [
    `bind ${bind}`,
    ...routes,
    `default_backend ${UNKNOWN_HOST_BACKEND}`,
  ]);
}

function renderBackend(app: LbApp): string[] {
  const servers = [...app.servers].sort((a, b) => a.id - b.id);
  const noInstance = jsonString({
    error: { code: 'NoReadyInstance', message: `app ${app.name} has no ready instance; retry shortly` },
  });
  return section(`backend ${backendName(app.name)}`, [
    'balance roundrobin',
    // A retried POST/PUT/PATCH/DELETE could run twice on the application, unless it says its
    // writes are idempotent.
    ...(app.retryWrites ? [] : ['http-request disable-l7-retry if METH_POST || { method PUT PATCH DELETE }']),
    ...renderCheck(app.check),
    `timeout check ${formatDuration(app.check.timeoutMs)}`,
    `http-error status 503 content-type application/json string ${noInstance}`,
    ...servers.map((s) => renderServer(app, s)),
  ]);
}

/**
 * The backend's check. Servers carry only `check` (see serverKeywords), so the kind of check is
 * the backend's alone: runtime-added servers and config-file servers are checked alike.
 * Without `option httpchk` HAProxy's check is a TCP connect to the server's port (L4OK).
 */
function renderCheck(check: LbHealthCheck): string[] {
  if (check.type === 'tcp') return [];
  return [
    'option httpchk',
    `http-check send meth GET uri ${check.path} ver HTTP/1.1 hdr Host localhost`,
    `http-check expect status ${check.expectStatus ?? DEFAULT_EXPECT_STATUS}`,
  ];
}

/**
 * A draining server is written as a normal one: its drain state survives a reload through the
 * server-state file, and a `weight 0` here would outlive a later `state ready`.
 */
function renderServer(app: LbApp, server: LbServer): string {
  const words = [
    'server',
    server.name,
    `${server.address}:${server.port}`,
    'id',
    String(server.id),
    ...serverKeywords(app.check),
  ];
  if (server.state === 'maint') words.push('disabled');
  return words.join(' ');
}

function renderUnknownHostBackend(): string[] {
  const body = jsonString({
    error: { code: 'UnknownHost', message: 'no app is routed for this Host header; check the host name' },
  });
  return section(`backend ${UNKNOWN_HOST_BACKEND}`, [
    `http-request return status 404 content-type application/json string ${body}`,
  ]);
}

/** A JSON body as one double-quoted HAProxy word. */
function jsonString(value: unknown): string {
  return `"${JSON.stringify(value).replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}
