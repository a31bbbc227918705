import { createConnection } from 'node:net';
import { TransientError } from '../errors/index.ts';
import { LbErrorCode } from './error-codes.ts';

export type SocketCommandOptions = {
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * What a whole answer looks like. `listing` (show stat, show servers state, show proc):
   * HAProxy ends it with an empty line, so one without was cut short (a worker exiting
   * mid-answer, a reset). `message` (the default): at least one byte; some runtime commands
   * (`del server`) end without the empty line. `none`: the master CLI's `reload`, which
   * prints nothing in 2.6.
   */
  answer?: AnswerKind;
};

export type AnswerKind = 'listing' | 'message' | 'none';

const LISTING_END = '\n\n';

/**
 * Sends one command line to a HAProxy CLI socket and resolves with its whole answer. One
 * connection per command keeps the exchange stateless: HAProxy closes a non-interactive CLI
 * connection after answering. An empty or cut-short answer is a `TransientError`, never an
 * answer: read as one it would say "no servers" about a backend full of them.
 */
export function sendSocketCommand(
  socketPath: string,
  command: string,
  opts: SocketCommandOptions = {},
): Promise<string> {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const fail = (code: string, reason: string, cause?: unknown) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(
        new TransientError(code, `HAProxy socket ${socketPath} ${reason}`, {
          cause,
          details: { socketPath },
        }),
      );
    };
    const onAbort = () => fail(LbErrorCode.SocketUnreachable, 'command aborted', opts.signal?.reason);
    const socket = createConnection({ path: socketPath });
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    socket.setTimeout(timeoutMs, () =>
      fail(
        LbErrorCode.SocketUnreachable,
        `did not answer within ${timeoutMs}ms; check that HAProxy is running`,
      ),
    );
    socket.on('connect', () => socket.end(`${command}\n`));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) =>
      fail(
        LbErrorCode.SocketUnreachable,
        `refused the connection (${err.code ?? err.message}); check that HAProxy is running`,
        err,
      ),
    );
    socket.on('close', () => {
      if (settled) return;
      const answer = Buffer.concat(chunks).toString('utf8');
      const kind = opts.answer ?? 'message';
      const whole = kind === 'none' || (kind === 'listing' ? answer.endsWith(LISTING_END) : answer !== '');
      if (!whole) {
        const got = answer === '' ? 'nothing' : `${answer.length} bytes without the closing empty line`;
        return fail(
          LbErrorCode.TruncatedAnswer,
          `closed the connection before a complete answer to "${command}" (got ${got}); HAProxy may be reloading, retry`,
        );
      }
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      resolve(answer);
    });
  });
}

/** True when nothing listens on the socket (no file, or refused): HAProxy is not running. */
export function isNoListener(err: unknown): boolean {
  const cause = err instanceof Error ? (err.cause as NodeJS.ErrnoException | undefined) : undefined;
  return cause?.code === 'ENOENT' || cause?.code === 'ECONNREFUSED';
}
