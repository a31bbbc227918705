/**
 * What the daemon itself saw during a stretch of load, from two reads of its `/metrics`: how
 * long it took to answer (request in to answer out, not the wait before its loop read the
 * request), how late its event loop ran, and how long it spent collecting garbage. Set against
 * what the load process measured, it tells the daemon's share of a latency from the machine's.
 */

/** Sample values of a Prometheus text exposition, keyed by `name{labels}` as printed. */
export type MetricSamples = Map<string, number>;

export function parseMetrics(text: string): MetricSamples {
  const samples: MetricSamples = new Map();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

const sumMatching = (s: MetricSamples, test: (key: string) => boolean) =>
  [...s].filter(([k]) => test(k)).reduce((total, [, v]) => total + v, 0);

export type DaemonSide = {
  /** Requests to `route` the daemon answered, and how many of them within 10 ms. */
  answered: number;
  within10ms: number;
  /** Event loop lag over the stretch (prom-client resets its histogram on every read). */
  loopLagP99Ms: number;
  loopLagMaxMs: number;
  /** Garbage collections over the stretch: all of them, and the full (old space) ones. */
  gcMs: number;
  fullGcs: number;
  fullGcMs: number;
  /** The daemon's CPU time (user and system) over the stretch, all of its work included. */
  cpuMs: number;
};

/** The stretch between two reads of `/metrics`; `route` is a route pattern, e.g. `/v1/apps`. */
export function daemonSide(before: MetricSamples, after: MetricSamples, route: string): DaemonSide {
  const delta = (test: (key: string) => boolean) => sumMatching(after, test) - sumMatching(before, test);
  const api = (suffix: string, le?: string) => (k: string) =>
    k.startsWith(`glint_api_request_duration_seconds_${suffix}{`) &&
    k.includes(`route="${route}"`) &&
    (le === undefined || k.includes(`le="${le}"`));
  // A full collection ends as `major`, or as `incremental` when V8 finished its marking in steps.
  const gc = (suffix: string, full?: boolean) => (k: string) =>
    k.startsWith(`glint_nodejs_gc_duration_seconds_${suffix}{`) &&
    (!full || k.includes('kind="major"') || k.includes('kind="incremental"'));
  return {
    answered: delta(api('count')),
    within10ms: delta(api('bucket', '0.01')),
    loopLagP99Ms: (after.get('glint_nodejs_eventloop_lag_p99_seconds') ?? Number.NaN) * 1000,
    loopLagMaxMs: (after.get('glint_nodejs_eventloop_lag_max_seconds') ?? Number.NaN) * 1000,
    gcMs: delta(gc('sum')) * 1000,
    fullGcs: delta(gc('count', true)),
    fullGcMs: delta(gc('sum', true)) * 1000,
    cpuMs: delta((k) => k === 'glint_process_cpu_seconds_total') * 1000,
  };
}

export function describeDaemonSide(d: DaemonSide): string {
  const share = d.answered > 0 ? (100 * d.within10ms) / d.answered : 0;
  return (
    `daemon side: ${share.toFixed(2)} % of ${d.answered} answered within 10 ms; event loop lag p99 ` +
    `${d.loopLagP99Ms.toFixed(1)} ms, max ${d.loopLagMaxMs.toFixed(1)} ms; GC ${d.gcMs.toFixed(0)} ms, ` +
    `${d.fullGcs} full (${d.fullGcMs.toFixed(0)} ms); CPU ${d.cpuMs.toFixed(0)} ms, ` +
    `${d.answered > 0 ? (d.cpuMs / d.answered).toFixed(2) : '?'} ms per answer`
  );
}
