import { request } from 'node:http';
import { type ProbeResult, parseStatusRange } from './health-check.ts';
import { socketErrorReason } from './socket-error-reason.ts';

export type HttpProbe = {
  host: string;
  port: number;
  path: string;
  /** `200-399` (default) or a single status. */
  expectStatus?: string;
  timeoutMs: number;
  signal?: AbortSignal;
};

/**
 * One GET on a fresh connection (no keep-alive pool: every probe proves the app still accepts
 * connections). Passes when the status is in range; otherwise says why ("status 503",
 * "timeout after 1000ms", "connection refused").
 */
export function probeHttp(probe: HttpProbe): Promise<ProbeResult> {
  const [low, high] = parseStatusRange(probe.expectStatus ?? '200-399');
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      probe.signal?.removeEventListener('abort', onAbort);
      req.destroy();
      resolve(result);
    };
    const req = request(
      {
        host: probe.host,
        port: probe.port,
        path: probe.path,
        method: 'GET',
        agent: false,
        headers: { 'user-agent': 'glint-health' },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        res.resume();
        finish(
          status >= low && status <= high
            ? { ok: true, reason: `status ${status}` }
            : { ok: false, reason: `status ${status}` },
        );
      },
    );
    const timer = setTimeout(
      () => finish({ ok: false, reason: `timeout after ${probe.timeoutMs}ms` }),
      probe.timeoutMs,
    );
    const onAbort = () => finish({ ok: false, reason: 'aborted' });
    probe.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (err) => finish({ ok: false, reason: socketErrorReason(err) }));
    req.end();
  });
}
