import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export type CountingHttpProxy = {
  port: number;
  /** Every request that passed, in order: `GET /v2/repo/manifests/sha256:...`. */
  requests: string[];
  close(): Promise<void>;
};

/**
 * A loopback HTTP proxy in front of a server (a test registry) that records each request, so
 * a test can count what a client really sent (attempts, retries) rather than trust its report.
 */
export async function startCountingHttpProxy(targetPort: number): Promise<CountingHttpProxy> {
  const requests: string[] = [];
  const server = createServer((inbound, outbound) => {
    requests.push(`${inbound.method} ${inbound.url}`);
    const upstream = request(
      {
        host: '127.0.0.1',
        port: targetPort,
        method: inbound.method,
        path: inbound.url,
        headers: inbound.headers,
      },
      (answer) => {
        outbound.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outbound);
      },
    );
    upstream.on('error', () => outbound.destroy());
    inbound.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
