import { createConnection } from 'node:net';
import { TransientError } from '../errors/index.ts';

export type SocketCommandOptions = { timeoutMs?: number; signal?: AbortSignal };

/**
 * Sends one command line to a HAProxy CLI socket and resolves with everything it printed
 * before closing. One connection per command keeps the exchange stateless: HAProxy closes a
 * non-interactive CLI connection after answering.
 */
export function sendSocketCommand(
  socketPath: string,
  command: string,
  opts: SocketCommandOptions = {},
): Promise<string> {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = createConnection({ path: socketPath });
    const fail = (reason: string, cause?: unknown) => {
      socket.destroy();
      reject(
        new TransientError('LbSocketUnreachable', `HAProxy socket ${socketPath} ${reason}`, {
          cause,
          details: { socketPath },
        }),
      );
    };
    const onAbort = () => fail('command aborted');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    socket.setTimeout(timeoutMs, () =>
      fail(`did not answer within ${timeoutMs}ms; check that HAProxy is running`),
    );
    socket.on('connect', () => socket.end(`${command}\n`));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) =>
      fail(`refused the connection (${err.code ?? err.message}); check that HAProxy is running`, err),
    );
    socket.on('close', () => {
      opts.signal?.removeEventListener('abort', onAbort);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}
