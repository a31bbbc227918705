import { createServer, type RequestListener, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApiErrorCode } from './error-codes.ts';

/** Node's own limit on a request's headers (16 KiB by default) answers 431 below. */
function clientErrorAnswer(err: NodeJS.ErrnoException): { status: number; code: string; message: string } {
  if (err.code === 'HPE_HEADER_OVERFLOW')
    return {
      status: 431,
      code: ApiErrorCode.HeadersTooLarge,
      message: 'the request headers are too large; send a token and small headers only',
    };
  return { status: 400, code: ApiErrorCode.InvalidRequest, message: 'the request is not valid HTTP' };
}

const REASON: Record<number, string> = { 400: 'Bad Request', 431: 'Request Header Fields Too Large' };

/**
 * The API's HTTP server. A request Node refuses before express sees it (headers over the limit,
 * broken framing) still gets the API's JSON error, then the connection closes.
 */
export function createApiServer(handler: RequestListener): Server {
  const server = createServer(handler);
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable || (err.code === 'ECONNRESET' && !socket.readable)) return socket.destroy();
    const answer = clientErrorAnswer(err);
    const body = JSON.stringify({ error: { code: answer.code, message: answer.message } });
    socket.end(
      `HTTP/1.1 ${answer.status} ${REASON[answer.status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  return server;
}

/**
 * Stops taking connections and ends the idle ones at once; requests still running get
 * `graceMs` (long polls and streams end on the daemon's shutdown signal before this).
 */
export async function closeApiServer(server: Server, graceMs = 5_000): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, graceMs);
  });
  await Promise.race([closed, grace]);
  clearTimeout(timer);
  server.closeAllConnections();
  await closed;
}
