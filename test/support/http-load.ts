import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./http-load-child.mjs', import.meta.url));

// Hard caps: whatever a test asks for, the load stays small enough for a shared 2-core machine
// and stops by itself.
export const LOAD_LIMITS = {
  connections: 256,
  rate: 5_000,
  maxDurationSec: 1_800,
  timeoutSec: 120,
  postBytes: 64 * 1024,
} as const;

/** Every rollout test sends real concurrency: dozens of connections, keep-alive and new, GET and POST. */
export const ROLLOUT_LOAD = { connections: 32, newConnectionShare: 0.3, postShare: 0.3 } as const;

export type LoadOptions = {
  /** A loopback URL: test traffic never leaves the machine. */
  url: string;
  /** Keep-alive sockets used in turn; fresh connections are capped at the same number. */
  connections: number;
  /** Requests started per second, whatever the latency (open loop). */
  rate: number;
  /** Upper bound; `stop()` ends earlier. */
  maxDurationSec: number;
  timeoutSec?: number;
  /** Share (0..1) of requests sent on a new connection with `Connection: close`. Default 0. */
  newConnectionShare?: number;
  /** Share (0..1) of requests that are POSTs with a small JSON body. Default 0. */
  postShare?: number;
  /** Path the POSTs go to, on the same origin as `url`. Default `/echo`. */
  postPath?: string;
  /** POST body sizes, drawn evenly between the two. Default 1024..4096 bytes. */
  postMinBytes?: number;
  postMaxBytes?: number;
  /**
   * A 2xx answer to a POST must be JSON whose `bytes` equals the body's length (what the demo
   * app's `POST /echo` answers); otherwise it counts as error `BAD_ECHO`. Default true.
   */
  verifyEcho?: boolean;
  /** Seeds the draw of each request's kind, so a run's mix can be replayed. Default 1. */
  seed?: number;
  /** Sent with every request (an `authorization` header for an API). Default none. */
  headers?: Record<string, string>;
};

/** How many requests of each kind were started (`byKind`) or failed (`failedByKind`). */
export type LoadKinds = { get: number; post: number; keepAlive: number; fresh: number };

export type LoadSummary = {
  requests: number;
  ok2xx: number;
  non2xx: number;
  errors: number;
  errorCodes: Record<string, number>;
  timeouts: number;
  /** Requests still without an answer when the run ended (counted as failures). */
  unanswered: number;
  /** Every started request is one GET or POST, and went on one keep-alive or fresh connection. */
  byKind: LoadKinds;
  /** Non-2xx, errors and timeouts by kind (unanswered ones are not in here). */
  failedByKind: LoadKinds;
  /** Distinct TCP connections the generator opened. */
  socketsOpened: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** How late the load process's own event loop ran (1 ms timer): answers read late are timed late. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  durationSec: number;
  ratePerSec: number;
};

export type RunningLoad = { stop(): void; result: Promise<LoadSummary> };

type ChildMessage = { result?: Omit<LoadSummary, 'ratePerSec'> };
type ChildArgs = Required<Omit<LoadOptions, 'maxDurationSec'>> & { durationSec: number };

/** Checks the options against the loopback rule and the caps, and fills in the defaults. */
function childArgs(opts: LoadOptions): ChildArgs {
  if (!/^http:\/\/127\.\d+\.\d+\.\d+[:/]/.test(opts.url))
    throw new Error(`load only goes to loopback, not ${opts.url}`);
  const args: ChildArgs = {
    url: opts.url,
    connections: opts.connections,
    rate: opts.rate,
    durationSec: opts.maxDurationSec,
    timeoutSec: opts.timeoutSec ?? 10,
    newConnectionShare: opts.newConnectionShare ?? 0,
    postShare: opts.postShare ?? 0,
    postPath: opts.postPath ?? '/echo',
    postMinBytes: opts.postMinBytes ?? 1024,
    postMaxBytes: opts.postMaxBytes ?? 4096,
    verifyEcho: opts.verifyEcho ?? true,
    seed: opts.seed ?? 1,
    headers: opts.headers ?? {},
  };
  const within = (field: string, value: number, min: number, max: number, integer = false) => {
    if (!(value >= min && value <= max) || (integer && !Number.isInteger(value)))
      throw new RangeError(
        `load ${field} must be ${integer ? 'an integer ' : ''}in ${min}..${max}, not ${value}`,
      );
  };
  within('connections', args.connections, 1, LOAD_LIMITS.connections, true);
  within('rate', args.rate, 1, LOAD_LIMITS.rate);
  within('maxDurationSec', args.durationSec, 0, LOAD_LIMITS.maxDurationSec);
  within('timeoutSec', args.timeoutSec, 0.001, LOAD_LIMITS.timeoutSec);
  within('newConnectionShare', args.newConnectionShare, 0, 1);
  within('postShare', args.postShare, 0, 1);
  within('postMinBytes', args.postMinBytes, 0, LOAD_LIMITS.postBytes, true);
  within('postMaxBytes', args.postMaxBytes, args.postMinBytes, LOAD_LIMITS.postBytes, true);
  within('seed', args.seed, 0, 2 ** 32 - 1, true);
  if (!args.postPath.startsWith('/') || new URL(args.postPath, args.url).origin !== new URL(args.url).origin)
    throw new Error(`load postPath must be a path on ${args.url}, not ${args.postPath}`);
  return args;
}

/**
 * Bounded HTTP load (rate, sockets and duration all capped), generated in a child process so
 * the orchestration in the test does not distort the latencies it measures. With the defaults
 * it sends GETs over keep-alive connections only; `postShare` and `newConnectionShare` mix in
 * POSTs and fresh connections.
 */
export function startLoad(opts: LoadOptions): RunningLoad {
  const args = childArgs(opts);
  const child = fork(CHILD, [JSON.stringify(args)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const result = new Promise<LoadSummary>((resolve, reject) => {
    child.once('message', (m: ChildMessage) => {
      if (!m.result) return reject(new Error('load generator sent no result'));
      resolve({
        ...m.result,
        ratePerSec: Math.round(m.result.requests / Math.max(m.result.durationSec, 0.001)),
      });
    });
    child.once('exit', (code) => reject(new Error(`load generator exited (${code}) without a result`)));
  });
  return {
    stop: () => {
      if (child.connected) child.send('stop');
    },
    result,
  };
}

export function formatLoad(label: string, s: LoadSummary): string {
  const codes = Object.entries(s.errorCodes)
    .map(([code, n]) => `${code}×${n}`)
    .join(' ');
  const k = s.byKind;
  const f = s.failedByKind;
  const failedKinds =
    f.get + f.post > 0
      ? ` (failed: GET ${f.get}, POST ${f.post}, keep-alive ${f.keepAlive}, fresh ${f.fresh})`
      : '';
  return `${label}: ${s.requests} requests in ${s.durationSec.toFixed(1)}s (${s.ratePerSec}/s): GET ${k.get}, POST ${k.post}, keep-alive ${k.keepAlive}, fresh ${k.fresh}, ${s.socketsOpened} connections; 2xx ${s.ok2xx}, non-2xx ${s.non2xx}, errors ${s.errors}${codes ? ` (${codes})` : ''}, timeouts ${s.timeouts}, unanswered ${s.unanswered}${failedKinds}, p50 ${s.p50Ms}ms, p99 ${s.p99Ms}ms, max ${s.maxMs}ms`;
}
