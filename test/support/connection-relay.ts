import { rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';

/**
 * A unix socket path, or a TCP port (0 asks the kernel for one) on `host`, loopback unless
 * given (a test network namespace's address, say).
 */
export type RelayEndpoint = { path: string } | { port: number; host?: string };

export type ConnectionRelay = {
  /** Where clients connect: the socket path, or the TCP port actually bound. */
  path?: string;
  port?: number;
  /** Drops every connection and refuses new ones: an engine restart or a network partition. */
  cut(): Promise<void>;
  /** Accepts connections again at the same place. */
  restore(): Promise<void>;
  close(): Promise<void>;
};

/**
 * Relays connections from `listen` to `target`, so a test can cut one client off a shared
 * server (the Docker engine, etcd) and restore it without restarting that server.
 */
export async function startRelay(target: RelayEndpoint, listen: RelayEndpoint): Promise<ConnectionRelay> {
  const sockets = new Set<Socket>();
  const server = createServer((inbound) => {
    const outbound =
      'path' in target ? connect(target.path) : connect(target.port, target.host ?? '127.0.0.1');
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    inbound.pipe(outbound).pipe(inbound);
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });

  let at: RelayEndpoint = listen;
  const open = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const done = () => {
        const address = server.address();
        if ('port' in at && typeof address === 'object' && address) at = { ...at, port: address.port };
        resolve();
      };
      if ('path' in at) {
        rmSync(at.path, { force: true });
        server.listen(at.path, done);
      } else server.listen(at.port, at.host ?? '127.0.0.1', done);
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });

  await open();
  return {
    ...at,
    cut: stop,
    restore: open,
    close: async () => {
      await stop();
      if ('path' in at) rmSync(at.path, { force: true });
    },
  };
}
