import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// autocannon ships no types; this is the slice of its result the tests use.
type AutocannonResult = {
  requests: { total: number; average: number };
  latency: { p50: number; p99: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  duration: number;
};
type ChildMessage = { result?: AutocannonResult; error?: string };

const CHILD = fileURLToPath(new URL('./http-load-child.mjs', import.meta.url));

export type LoadOptions = {
  /** A loopback URL: test traffic never leaves the machine. */
  url: string;
  connections: number;
  /** Requests per second over all connections. */
  rate: number;
  /** Upper bound; `stop()` ends earlier. */
  maxDurationSec: number;
  timeoutSec?: number;
};

export type LoadSummary = {
  requests: number;
  ok2xx: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  durationSec: number;
  ratePerSec: number;
};

export type RunningLoad = { stop(): void; result: Promise<LoadSummary> };

/**
 * Bounded HTTP load with autocannon (rate, connections and duration all capped), run in a
 * child process so the orchestration in the test does not distort the latencies it measures.
 */
export function startLoad(opts: LoadOptions): RunningLoad {
  if (!/^http:\/\/127\.\d+\.\d+\.\d+[:/]/.test(opts.url))
    throw new Error(`load only goes to loopback, not ${opts.url}`);
  const args = {
    url: opts.url,
    connections: opts.connections,
    overallRate: opts.rate,
    duration: opts.maxDurationSec,
    timeout: opts.timeoutSec ?? 10,
  };
  const child = fork(CHILD, [JSON.stringify(args)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const raw = new Promise<AutocannonResult>((resolve, reject) => {
    child.once('message', (m: ChildMessage) => (m.result ? resolve(m.result) : reject(new Error(m.error))));
    child.once('exit', (code) => reject(new Error(`load generator exited (${code}) without a result`)));
  });
  const result = raw.then((r) => ({
    requests: r.requests.total,
    ok2xx: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    maxMs: r.latency.max,
    durationSec: r.duration,
    ratePerSec: Math.round(r.requests.total / Math.max(r.duration, 0.001)),
  }));
  return {
    stop: () => {
      if (child.connected) child.send('stop');
    },
    result,
  };
}

export function formatLoad(label: string, s: LoadSummary): string {
  return `${label}: ${s.requests} requests in ${s.durationSec.toFixed(1)}s (${s.ratePerSec}/s), 2xx ${s.ok2xx}, non-2xx ${s.non2xx}, errors ${s.errors}, timeouts ${s.timeouts}, p50 ${s.p50Ms}ms, p99 ${s.p99Ms}ms, max ${s.maxMs}ms`;
}
