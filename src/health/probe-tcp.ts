import { connect } from 'node:net';
import type { ProbeResult } from './health-check.ts';
import { socketErrorReason } from './socket-error-reason.ts';

export type TcpProbe = { host: string; port: number; timeoutMs: number; signal?: AbortSignal };

/**
 * Passes when a TCP connection opens. Beware: Docker's published-port proxy accepts connections
 * before the app listens, so through a published port this can pass too early. Prefer HTTP.
 */
export function probeTcp(probe: TcpProbe): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let settled = false;
    const socket = connect({ host: probe.host, port: probe.port });
    const finish = (result: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      probe.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () => finish({ ok: false, reason: `timeout after ${probe.timeoutMs}ms` }),
      probe.timeoutMs,
    );
    const onAbort = () => finish({ ok: false, reason: 'aborted' });
    probe.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish({ ok: true, reason: 'connected' }));
    socket.once('error', (err) => finish({ ok: false, reason: socketErrorReason(err) }));
  });
}
