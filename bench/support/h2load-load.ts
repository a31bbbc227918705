import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * What one h2load run reported. h2load (nghttp2's load generator, C on libev) paces requests
 * from its own timers and logs each request's time, so its own cost stays far below the
 * figures it measures (bench/load-floor.ts prints that floor).
 */
export type H2loadSummary = {
  /** Requests h2load counted, answered or not. */
  requests: number;
  /** Answers with a 2xx status. */
  ok2xx: number;
  ratePerSec: number;
  /** From the request's write to the answer's last byte; the connect is in `connectMaxMs`. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  connectMeanMs: number;
  connectMaxMs: number;
};

const ms = (value: string, unit: string) =>
  unit === 'us' ? Number(value) / 1000 : unit === 's' ? Number(value) * 1000 : Number(value);

/**
 * Reads h2load's per-request log (`--log-file`: start µs, status, µs to the answer's end, one
 * request per line) and its printed summary. Throws when the summary is missing (h2load failed).
 */
export function summarizeH2load(log: string, printed: string): H2loadSummary {
  const requests = /requests: (\d+) total/.exec(printed);
  const finished = /finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(printed);
  if (!requests || !finished) throw new Error(`h2load printed no summary:\n${printed}`);
  const rows = log
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => line.split('\t').map(Number));
  const times = rows.map((r) => (r[2] ?? Number.NaN) / 1000).sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)] ?? Number.NaN;
  const connect = /time for connect:\s+[\d.]+(us|ms|s)\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)/.exec(printed);
  return {
    requests: Number(requests[1]),
    ok2xx: rows.filter((r) => (r[1] ?? 0) >= 200 && (r[1] ?? 0) < 300).length,
    ratePerSec: Number(finished[1]),
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    maxMs: times.at(-1) ?? Number.NaN,
    connectMaxMs: connect ? ms(connect[2]!, connect[3]!) : Number.NaN,
    connectMeanMs: connect ? ms(connect[4]!, connect[5]!) : Number.NaN,
  };
}

export type H2loadRun = { summary: H2loadSummary; command: string };

type H2loadLoad = { url: string; rate: number; seconds: number; headers?: Record<string, string> };

/**
 * h2load over HTTP/1.1 against a loopback URL at `rate` requests/s for `seconds`.
 * `keepAlive`: 16 connections, each paced at its share of the rate. Otherwise one new
 * connection per request, opened at a fixed interval: the rate whatever the answers' latency.
 */
export function runH2load(opts: H2loadLoad & { keepAlive: boolean }): Promise<H2loadRun> {
  const host = new URL(opts.url).hostname;
  if (!host.startsWith('127.')) throw new Error(`load goes to loopback only, not ${host}`);
  const dir = mkdtempSync(join(tmpdir(), 'h2load-'));
  const logFile = join(dir, 'requests.tsv');
  // h2load's pacing of new connections takes whole milliseconds: n connections every p ms.
  const periodMs = Math.max(1, Math.round(1000 / opts.rate));
  const perPeriod = Math.max(1, Math.round((opts.rate * periodMs) / 1000));
  const total = Math.round(opts.rate * opts.seconds);
  const pacing = opts.keepAlive
    ? ['-c', '16', '--rps', String(opts.rate / 16), '-D', String(opts.seconds)]
    : ['-c', String(total), '-n', String(total), '-r', String(perPeriod), '--rate-period', `${periodMs}ms`];
  const headers = Object.entries(opts.headers ?? {}).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
  const args = ['--h1', ...pacing, ...headers, `--log-file=${logFile}`, opts.url];
  // The command as printed leaves header values out: they carry the API token.
  const shown = [
    '--h1',
    ...pacing,
    ...Object.keys(opts.headers ?? {}).flatMap((k) => ['-H', `'${k}: …'`]),
    opts.url,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('h2load', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let printed = '';
    child.stdout.on('data', (d: Buffer) => {
      printed += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      printed += d.toString();
    });
    child.on('error', (err) => {
      rmSync(dir, { recursive: true, force: true });
      reject(new Error(`h2load could not start (${err.message}); run scripts/ensure-tools.sh`));
    });
    child.on('close', () => {
      try {
        const log = readFileSync(logFile, 'utf8');
        resolve({ summary: summarizeH2load(log, printed), command: `h2load ${shown.join(' ')}` });
      } catch (err) {
        reject(err);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

export type H2loadMix = { keepAlive: H2loadRun; fresh: H2loadRun };

/** The API benches' mix from h2load: keep-alive connections and new ones side by side, each at its share of `rate`. */
export async function runH2loadMix(opts: H2loadLoad & { newShare: number }): Promise<H2loadMix> {
  const run = (share: number, keepAlive: boolean) =>
    runH2load({
      url: opts.url,
      rate: opts.rate * share,
      seconds: opts.seconds,
      keepAlive,
      ...(opts.headers ? { headers: opts.headers } : {}),
    });
  const [keepAlive, fresh] = await Promise.all([run(1 - opts.newShare, true), run(opts.newShare, false)]);
  return { keepAlive, fresh };
}

/**
 * One line per mix, and whether the target holds: both halves' p99 under it, every answer 2xx,
 * the rate asked kept. A new connection's time counts from its request's write: the handshake
 * before it is done by the kernels alone (the daemon's kernel answers it before the daemon accepts),
 * while the daemon's own accept and read are in the figure, since the request waits in the
 * socket until the daemon gets to it. The connect times are printed beside it.
 */
export function describeH2loadMix(
  mix: H2loadMix,
  rate: number,
  p99TargetMs = 10,
): { line: string; met: boolean } {
  const f = (n: number) => n.toFixed(1);
  const half = (name: string, { summary: h }: H2loadRun, withConnect: boolean) =>
    `${name}: ${h.ratePerSec.toFixed(0)}/s, p50 ${f(h.p50Ms)} ms, p99 ${f(h.p99Ms)} ms, max ${f(h.maxMs)} ms` +
    (withConnect ? ` (connect mean ${h.connectMeanMs.toFixed(2)} ms, max ${f(h.connectMaxMs)} ms)` : '') +
    `, ${h.requests} requests` +
    (h.ok2xx === h.requests ? ', all 2xx' : `, ${h.requests - h.ok2xx} not 2xx`);
  const all = [mix.keepAlive.summary, mix.fresh.summary];
  const met =
    all.every((h) => h.p99Ms < p99TargetMs && h.requests > 0 && h.ok2xx === h.requests) &&
    all.reduce((sum, h) => sum + h.ratePerSec, 0) >= rate * 0.95;
  return {
    line: `${half('keep-alive', mix.keepAlive, false)}; ${half('new connections', mix.fresh, true)}`,
    met,
  };
}
