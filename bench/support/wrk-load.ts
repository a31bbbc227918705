import { type ChildProcess, spawn } from 'node:child_process';

/** What wrk reported for one run: every request, and every way one went wrong. */
export type WrkSummary = {
  requests: number;
  seconds: number;
  non2xx3xx: number;
  socketErrors: { connect: number; read: number; write: number; timeout: number };
  /** Non-2xx/3xx responses plus every socket error. */
  errors: number;
  raw: string;
};

export type WrkRun = {
  /** Ends the run (SIGINT: wrk prints its summary) and resolves with it. */
  stop(): Promise<WrkSummary>;
  /** The command line, for the printed figures. */
  command: string;
};

/** Parses wrk 4.x's text summary. Throws when it holds no request count (wrk failed). */
export function parseWrk(raw: string): WrkSummary {
  const total = /(\d+) requests in ([\d.]+)(ms|s|m)/.exec(raw);
  if (!total) throw new Error(`wrk printed no summary:\n${raw}`);
  const unit = total[3] === 'ms' ? 0.001 : total[3] === 'm' ? 60 : 1;
  const non2xx3xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(raw)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(raw);
  const socketErrors = {
    connect: Number(sock?.[1] ?? 0),
    read: Number(sock?.[2] ?? 0),
    write: Number(sock?.[3] ?? 0),
    timeout: Number(sock?.[4] ?? 0),
  };
  const errors =
    non2xx3xx + socketErrors.connect + socketErrors.read + socketErrors.write + socketErrors.timeout;
  return {
    requests: Number(total[1]),
    seconds: Number(total[2]) * unit,
    non2xx3xx,
    socketErrors,
    errors,
    raw,
  };
}

const running = new Set<ChildProcess>();

/** Kills every wrk this process started (for signal handlers); each by its own pid. */
export function killWrks(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/**
 * Starts wrk against a loopback URL with `connections` keep-alive connections. `maxSeconds`
 * caps the run should `stop()` never come; wrk then ends on its own.
 */
export function startWrk(
  url: string,
  opts: { connections: number; threads?: number; maxSeconds: number },
): WrkRun {
  const host = new URL(url).hostname;
  if (!host.startsWith('127.')) throw new Error(`load goes to loopback only, not ${host}`);
  const args = [
    `-t${opts.threads ?? 2}`,
    `-c${opts.connections}`,
    `-d${opts.maxSeconds}s`,
    '--timeout',
    '5s',
    url,
  ];
  const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => {
      running.delete(child);
      resolve();
    });
  });
  return {
    command: `wrk ${args.join(' ')}`,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGINT');
      await exited;
      return parseWrk(out);
    },
  };
}

/** One line for the printed figures. */
export function formatWrk(s: WrkSummary): string {
  const e = s.socketErrors;
  return `${s.requests} requests in ${s.seconds.toFixed(1)} s, ${s.errors} errors (non-2xx/3xx ${s.non2xx3xx}, socket connect ${e.connect} read ${e.read} write ${e.write} timeout ${e.timeout})`;
}
