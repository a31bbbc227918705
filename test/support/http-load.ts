import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./http-load-child.mjs', import.meta.url));

export type LoadOptions = {
  /** A loopback URL: test traffic never leaves the machine. */
  url: string;
  /** Most sockets open at once (keep-alive). */
  connections: number;
  /** Requests started per second, whatever the latency (open loop). */
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
  errorCodes: Record<string, number>;
  timeouts: number;
  /** Requests still without an answer when the run ended (counted as failures). */
  unanswered: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  durationSec: number;
  ratePerSec: number;
};

export type RunningLoad = { stop(): void; result: Promise<LoadSummary> };

type ChildMessage = { result?: Omit<LoadSummary, 'ratePerSec'> };

/**
 * Bounded HTTP load (rate, sockets and duration all capped), generated in a child process so
 * the orchestration in the test does not distort the latencies it measures.
 */
export function startLoad(opts: LoadOptions): RunningLoad {
  if (!/^http:\/\/127\.\d+\.\d+\.\d+[:/]/.test(opts.url))
    throw new Error(`load only goes to loopback, not ${opts.url}`);
  const args = { ...opts, durationSec: opts.maxDurationSec, timeoutSec: opts.timeoutSec ?? 10 };
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
  return `${label}: ${s.requests} requests in ${s.durationSec.toFixed(1)}s (${s.ratePerSec}/s), 2xx ${s.ok2xx}, non-2xx ${s.non2xx}, errors ${s.errors}${codes ? ` (${codes})` : ''}, timeouts ${s.timeouts}, unanswered ${s.unanswered}, p50 ${s.p50Ms}ms, p99 ${s.p99Ms}ms, max ${s.maxMs}ms`;
}
