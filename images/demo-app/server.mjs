// glint's demo workload: a small HTTP service whose stamp (version, revision) is visible
// over HTTP, with knobs that make a version misbehave on purpose for tests and demos.
import { Agent, createServer, request } from 'node:http';
import { hostname } from 'node:os';

const env = process.env;
const port = Number(env.PORT ?? 8080);
const stamp = {
  version: env.APP_VERSION ?? 'unknown',
  revision: env.APP_REVISION ?? 'unknown',
  created: env.APP_CREATED ?? 'unknown',
};
// `let`: POST /admin/fail-health turns a running instance unhealthy, as a real fault would.
let failHealth = env.FAIL_HEALTH === '1' || env.FAIL_HEALTH === 'true';
// When set, `/` calls this URL and includes its answer: an app that depends on another.
const upstreamUrl = env.UPSTREAM_URL ? new URL(env.UPSTREAM_URL) : undefined;
const upstreamAgent = new Agent({ keepAlive: true, maxSockets: 64 });
const startupDelayMs = Number(env.STARTUP_DELAY_MS ?? 0);
const crashAfterMs = Number(env.CRASH_AFTER_MS ?? 0);
const responseDelayMs = Number(env.RESPONSE_DELAY_MS ?? 0);
const startedAt = new Date().toISOString();
// Set on SIGTERM/SIGINT: answers from then on close their connection, so a keep-alive client
// with a request in flight does not hold the process open once it has its answer.
let stopping = false;

const log = (msg, extra = {}) =>
  console.log(JSON.stringify({ time: new Date().toISOString(), msg, ...stamp, ...extra }));

function send(res, status, body) {
  const payload = JSON.stringify(body);
  const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) };
  if (stopping) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(payload);
}

/** Like a user's slow request, a delayed version is slow on every page, not just `/`. */
function afterDelay(reply) {
  return responseDelayMs > 0 ? setTimeout(reply, responseDelayMs) : reply();
}

/**
 * Reads the whole body (counting, not keeping it) and answers how many bytes arrived, so a
 * client can tell its body was not cut on the way.
 */
function echo(req, res) {
  let bytes = 0;
  req.on('data', (chunk) => {
    bytes += chunk.length;
  });
  req.on('end', () => {
    afterDelay(() => send(res, 200, { bytes, version: stamp.version, instance: hostname() }));
  });
}

/** GET of UPSTREAM_URL: its status and JSON body, or why it could not be had. */
function callUpstream(done) {
  const req = request(upstreamUrl, { agent: upstreamAgent, timeout: 5_000 }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (c) => {
      body += c;
    });
    res.on('end', () => {
      let parsed = body;
      try {
        parsed = JSON.parse(body);
      } catch {}
      done(res.statusCode >= 200 && res.statusCode < 300 ? undefined : `status ${res.statusCode}`, parsed);
    });
  });
  req.on('timeout', () => req.destroy(new Error('timeout after 5000ms')));
  req.on('error', (err) => done(err.message));
  req.end();
}

function home(res) {
  const own = { ...stamp, instance: hostname(), startedAt };
  if (!upstreamUrl) return send(res, 200, own);
  callUpstream((error, upstream) =>
    error
      ? send(res, 502, { ...own, error: `upstream ${upstreamUrl.href}: ${error}` })
      : send(res, 200, { ...own, upstream }),
  );
}

function handle(req, res) {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/healthz') {
    return failHealth
      ? send(res, 503, { status: 'failing', reason: 'FAIL_HEALTH is set' })
      : send(res, 200, { status: 'ok' });
  }
  if (path === '/version') return send(res, 200, stamp);
  if (path === '/') return afterDelay(() => home(res));
  if (path === '/admin/fail-health' && req.method === 'POST') {
    failHealth = true;
    log('health now failing (POST /admin/fail-health)');
    return send(res, 200, { status: 'failing' });
  }
  if (path === '/echo' && req.method === 'POST') return echo(req, res);
  return send(res, 404, { error: 'not found', path });
}

const server = createServer(handle);
server.keepAliveTimeout = 65_000;

setTimeout(() => {
  server.listen(port, () => log('listening', { port: server.address().port }));
}, startupDelayMs);

if (crashAfterMs > 0) {
  setTimeout(() => {
    log('crashing on purpose (CRASH_AFTER_MS)');
    process.exit(3);
  }, crashAfterMs);
}

// As PID 1, Node ignores SIGTERM unless handled: finish in-flight requests, then exit.
function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  log('stopping', { signal });
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 8_000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
