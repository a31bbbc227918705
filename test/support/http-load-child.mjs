// An open-loop HTTP load generator in its own process (so the test's own work does not
// distort latencies). Requests start at a fixed rate, spread over `connections` keep-alive
// connections; every request is accounted for: a response (2xx or not), an error
// (reset, refused, hang-up) or a timeout. Unlike autocannon it honours `Connection: close`,
// so a request is never written onto a connection the server is closing and then lost.
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

const opts = JSON.parse(process.argv[2] ?? '{}');
// One keep-alive socket per agent, used in turn: `connections` long-lived connections that sit
// idle between requests, which is what a reload must not reset.
const agents = Array.from({ length: opts.connections }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
const latencies = [];
const tally = { requests: 0, ok2xx: 0, non2xx: 0, errors: 0, timeouts: 0, errorCodes: {} };
let inFlight = 0;
let stopping = false;
const started = performance.now();

function fire() {
  tally.requests += 1;
  inFlight += 1;
  const t0 = performance.now();
  let settled = false;
  const settle = (kind, detail) => {
    if (settled) return;
    settled = true;
    inFlight -= 1;
    if (kind === 'response') {
      latencies.push(performance.now() - t0);
      if (detail >= 200 && detail < 300) tally.ok2xx += 1;
      else tally.non2xx += 1;
    } else if (kind === 'timeout') tally.timeouts += 1;
    else {
      tally.errors += 1;
      tally.errorCodes[detail] = (tally.errorCodes[detail] ?? 0) + 1;
    }
  };
  const agent = agents[tally.requests % agents.length];
  const req = request(opts.url, { agent, timeout: opts.timeoutSec * 1000 }, (res) => {
    res.on('data', () => {});
    res.on('end', () => settle('response', res.statusCode));
    res.on('error', (err) => settle('error', err.code ?? err.message));
  });
  req.on('timeout', () => {
    settle('timeout');
    req.destroy();
  });
  req.on('error', (err) => settle('error', err.code ?? err.message));
  req.end();
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
        durationSec: (performance.now() - started) / 1000,
      },
    });
    for (const agent of agents) agent.destroy();
    process.disconnect?.();
  }, 10);
}

process.on('message', (message) => {
  if (message === 'stop') stopping = true;
});
