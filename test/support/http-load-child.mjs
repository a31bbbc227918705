// An open-loop HTTP load generator in its own process (so the test's own work does not
// distort latencies). Requests start at a fixed rate, whatever the latency. Each one is drawn
// (from a seeded generator, so a run can be replayed) as a GET or a POST with a small JSON
// body, sent on one of `connections` keep-alive connections or on a fresh connection that
// closes after the answer: the mix a rollout meets from real users. Every request is accounted
// for: a response (2xx or not), an error (reset, refused, hang-up, a wrong echo) or a timeout.
// Unlike autocannon it honours `Connection: close`, so a request is never written onto a
// connection the server is closing and then lost.
import { Agent, request } from 'node:http';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

const opts = JSON.parse(process.argv[2] ?? '{}');
// A 2xx answer to a POST whose `bytes` is not the length sent: the body was cut or mangled.
const BAD_ECHO = 'BAD_ECHO';

// One keep-alive socket per agent, used in turn: `connections` long-lived connections that sit
// idle between requests, which is what a reload must not reset.
const keepAliveAgents = Array.from(
  { length: opts.connections },
  () => new Agent({ keepAlive: true, maxSockets: 1 }),
);
// Fresh connections: one per request, closed after its answer, at most `connections` open at
// once (further requests wait for a slot, as a browser's would).
const freshAgent = new Agent({ keepAlive: false, maxSockets: opts.connections });
const postUrl = new URL(opts.postPath, opts.url);

const latencies = [];
const tally = {
  requests: 0,
  ok2xx: 0,
  non2xx: 0,
  errors: 0,
  timeouts: 0,
  errorCodes: {},
  byKind: { get: 0, post: 0, keepAlive: 0, fresh: 0 },
  failedByKind: { get: 0, post: 0, keepAlive: 0, fresh: 0 },
  socketsOpened: 0,
};
const seenSockets = new WeakSet();
let keepAliveTurn = 0;
let inFlight = 0;
let stopping = false;
const started = performance.now();
// This process's own lateness: an answer read late is timed late, so a latency figure is only
// as good as this (reported with every result).
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();

/** mulberry32: a small seeded generator, so the same seed draws the same mix. */
function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = seededRandom(opts.seed);

/** A JSON body of exactly `bytes` bytes (ASCII), numbered so a mix-up would not parse alike. */
function jsonBody(seq, bytes) {
  const head = `{"seq":${seq},"pad":"`;
  const tail = '"}';
  const padLength = Math.max(0, bytes - head.length - tail.length);
  return Buffer.from(
    head +
      'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(Math.ceil(padLength / 36)).slice(0, padLength) +
      tail,
  );
}

function drawKind() {
  return {
    post: random() < opts.postShare,
    fresh: random() < opts.newConnectionShare,
  };
}

function fire() {
  tally.requests += 1;
  inFlight += 1;
  const seq = tally.requests;
  const kind = drawKind();
  tally.byKind[kind.post ? 'post' : 'get'] += 1;
  tally.byKind[kind.fresh ? 'fresh' : 'keepAlive'] += 1;
  const body = kind.post
    ? jsonBody(seq, opts.postMinBytes + Math.floor(random() * (opts.postMaxBytes - opts.postMinBytes + 1)))
    : undefined;

  const t0 = performance.now();
  let settled = false;
  const settle = (outcome, detail) => {
    if (settled) return;
    settled = true;
    inFlight -= 1;
    if (outcome === 'response') {
      latencies.push(performance.now() - t0);
      if (detail >= 200 && detail < 300) {
        tally.ok2xx += 1;
        return;
      }
      tally.non2xx += 1;
    } else if (outcome === 'timeout') tally.timeouts += 1;
    else {
      tally.errors += 1;
      tally.errorCodes[detail] = (tally.errorCodes[detail] ?? 0) + 1;
    }
    tally.failedByKind[kind.post ? 'post' : 'get'] += 1;
    tally.failedByKind[kind.fresh ? 'fresh' : 'keepAlive'] += 1;
  };

  const agent = kind.fresh ? freshAgent : keepAliveAgents[keepAliveTurn++ % keepAliveAgents.length];
  const headers = { ...opts.headers, ...(kind.fresh ? { connection: 'close' } : {}) };
  if (body) Object.assign(headers, { 'content-type': 'application/json', 'content-length': body.length });
  const req = request(
    kind.post ? postUrl : opts.url,
    { method: kind.post ? 'POST' : 'GET', agent, headers, timeout: opts.timeoutSec * 1000 },
    (res) => {
      const chunks = [];
      res.on('data', (chunk) => {
        if (body && opts.verifyEcho) chunks.push(chunk);
      });
      res.on('end', () => {
        const ok = res.statusCode >= 200 && res.statusCode < 300;
        if (ok && body && opts.verifyEcho && echoedBytes(chunks) !== body.length) settle('error', BAD_ECHO);
        else settle('response', res.statusCode);
      });
      res.on('error', (err) => settle('error', err.code ?? err.message));
    },
  );
  req.on('socket', (socket) => {
    if (seenSockets.has(socket)) return;
    seenSockets.add(socket);
    tally.socketsOpened += 1;
  });
  req.on('timeout', () => {
    settle('timeout');
    req.destroy();
  });
  req.on('error', (err) => settle('error', err.code ?? err.message));
  req.end(body);
}

/** The `bytes` an echo endpoint reports, or undefined when the answer is not such JSON. */
function echoedBytes(chunks) {
  try {
    const bytes = JSON.parse(Buffer.concat(chunks).toString('utf8'))?.bytes;
    return typeof bytes === 'number' ? bytes : undefined;
  } catch {
    return undefined;
  }
}

const ticker = setInterval(() => {
  const elapsedSec = (performance.now() - started) / 1000;
  if (elapsedSec >= opts.durationSec) stopping = true;
  if (stopping) return finish();
  const due = Math.floor(elapsedSec * opts.rate) - tally.requests;
  for (let i = 0; i < due; i++) fire();
}, 5);

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function finish() {
  clearInterval(ticker);
  const deadline = performance.now() + opts.timeoutSec * 1000 + 1000;
  const waitDrained = setInterval(() => {
    if (inFlight > 0 && performance.now() < deadline) return;
    clearInterval(waitDrained);
    const sorted = latencies.sort((a, b) => a - b);
    const round = (ms) => Math.round(ms * 10) / 10;
    process.send?.({
      result: {
        ...tally,
        unanswered: inFlight,
        p50Ms: round(percentile(sorted, 50)),
        p99Ms: round(percentile(sorted, 99)),
        maxMs: round(sorted.at(-1) ?? 0),
        loopDelayP99Ms: round(loopDelay.percentile(99) / 1e6),
        loopDelayMaxMs: round(loopDelay.max / 1e6),
        durationSec: (performance.now() - started) / 1000,
      },
    });
    for (const agent of keepAliveAgents) agent.destroy();
    freshAgent.destroy();
    process.disconnect?.();
  }, 10);
}

process.on('message', (message) => {
  if (message === 'stop') stopping = true;
});
