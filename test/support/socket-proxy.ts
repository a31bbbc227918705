import { rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A unix-socket relay in front of the Docker engine. `interrupt()` cuts every connection and
 * stops listening, which a client sees exactly as an engine restart; `resume()` listens again.
 * Lets a test exercise reconnect logic without restarting the shared engine.
 */
export class EngineSocketProxy {
  readonly socketPath: string;
  readonly #target: string;
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;

  constructor(target = '/var/run/docker.sock') {
    this.#target = target;
    this.socketPath = join(tmpdir(), `glint-engine-proxy-${process.pid}-${Date.now()}.sock`);
  }

  async resume(): Promise<void> {
    rmSync(this.socketPath, { force: true });
    this.#server = createServer((client) => {
      const upstream = connect(this.#target);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => this.#server!.listen(this.socketPath, resolve));
  }

  async interrupt(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const s of this.#sockets) s.destroy();
    if (server) await new Promise((resolve) => server.close(resolve));
    rmSync(this.socketPath, { force: true });
  }
}
