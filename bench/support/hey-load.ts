import { spawn } from 'node:child_process';

/** What one hey run reported. hey is a compiled load generator (Go): its own cost is small. */
export type HeySummary = {
  requests: number;
  ratePerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Responses by status code. */
  statuses: Record<string, number>;
  /** Requests that got no response (refused, reset, timed out), by hey's message. */
  errors: Record<string, number>;
};

/** Parses hey's text summary. Throws when it holds no latency distribution (hey failed). */
export function parseHey(raw: string): HeySummary {
  const seconds = (re: RegExp) => {
    const m = re.exec(raw);
    if (!m) throw new Error(`hey printed no ${re.source}:\n${raw}`);
    return Number(m[1]) * 1000;
  };
  const statuses: Record<string, number> = {};
  for (const m of raw.matchAll(/^\s*\[(\d{3})\]\s+(\d+) responses/gm)) statuses[m[1]!] = Number(m[2]);
  const errors: Record<string, number> = {};
  const errorPart = raw.split('Error distribution:')[1] ?? '';
  for (const m of errorPart.matchAll(/^\s*\[(\d+)\]\s+(.+)$/gm)) errors[m[2]!.trim()] = Number(m[1]);
  const count = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
  return {
    requests: count(statuses) + count(errors),
    ratePerSec: Number(/Requests\/sec:\s+([\d.]+)/.exec(raw)?.[1] ?? 0),
    p50Ms: seconds(/50% in ([\d.]+) secs/),
    p99Ms: seconds(/99% in ([\d.]+) secs/),
    maxMs: seconds(/Slowest:\s+([\d.]+) secs/),
    statuses,
    errors,
  };
}

export type HeyRun = { summary: HeySummary; command: string };

/** Where hey sends its load, how fast and for how long. */
type HeyLoad = { url: string; rate: number; seconds: number; headers?: Record<string, string> };

/**
 * `workers` workers against a loopback URL for `seconds`, together at `rate` requests/s (hey
 * paces each worker: a slow answer delays that worker's next request rather than piling
 * requests up, so a stall shows in fewer samples than with an open-loop generator).
 * `keepAlive: false` opens a new connection per request.
 */
export function runHey(opts: HeyLoad & { workers: number; keepAlive: boolean }): Promise<HeyRun> {
  const host = new URL(opts.url).hostname;
  if (!host.startsWith('127.')) throw new Error(`load goes to loopback only, not ${host}`);
  const args = [
    '-z',
    `${opts.seconds}s`,
    '-c',
    String(opts.workers),
    '-q',
    String(opts.rate / opts.workers),
    '-t',
    '10',
    ...(opts.keepAlive ? [] : ['-disable-keepalive']),
    ...Object.entries(opts.headers ?? {}).flatMap(([k, v]) => ['-H', `${k}: ${v}`]),
    opts.url,
  ];
  // The command as printed leaves header values out: they carry the API token.
  const shown = args.map((a, i) => (args[i - 1] === '-H' ? `'${a.split(':')[0]}: …'` : a));
  return new Promise((resolve, reject) => {
    const child = spawn('hey', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('error', (err) =>
      reject(new Error(`hey could not start (${err.message}); run scripts/ensure-tools.sh`)),
    );
    child.on('close', () => {
      try {
        resolve({ summary: parseHey(out), command: `hey ${shown.join(' ')}` });
      } catch (err) {
        reject(err);
      }
    });
  });
}

export type HeyMix = { keepAlive: HeyRun; fresh: HeyRun };

/**
 * The API benches' mix from hey: 16 workers on keep-alive connections and 16 on new ones,
 * side by side, each half at its share of `rate`.
 */
export async function runHeyMix(opts: HeyLoad & { newShare: number }): Promise<HeyMix> {
  const run = (share: number, keepAlive: boolean) =>
    runHey({
      url: opts.url,
      rate: opts.rate * share,
      seconds: opts.seconds,
      workers: 16,
      keepAlive,
      ...(opts.headers ? { headers: opts.headers } : {}),
    });
  const [keepAlive, fresh] = await Promise.all([run(1 - opts.newShare, true), run(opts.newShare, false)]);
  return { keepAlive, fresh };
}

/** One line per mix, and whether both halves kept p99 under `p99TargetMs` with every answer 200. */
export function describeHeyMix(mix: HeyMix, rate: number, p99TargetMs = 10): { line: string; met: boolean } {
  const half = (name: string, { summary: h }: HeyRun) => {
    const failed = h.requests - (h.statuses['200'] ?? 0);
    return (
      `${name}: ${h.ratePerSec.toFixed(0)}/s, p50 ${h.p50Ms.toFixed(1)} ms, p99 ${h.p99Ms.toFixed(1)} ms, ` +
      `max ${h.maxMs.toFixed(1)} ms, ${h.requests} requests` +
      (failed ? `, ${failed} failed ${JSON.stringify({ ...h.statuses, ...h.errors })}` : ', all 200')
    );
  };
  const all = [mix.keepAlive.summary, mix.fresh.summary];
  // Both halves under the target means at most 1 % of all requests over it.
  const met =
    all.every((h) => h.p99Ms < p99TargetMs && (h.statuses['200'] ?? 0) === h.requests) &&
    all.reduce((sum, h) => sum + h.ratePerSec, 0) >= rate * 0.95;
  return { line: `${half('keep-alive', mix.keepAlive)}; ${half('new connections', mix.fresh)}`, met };
}
