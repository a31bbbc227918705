import type { NextFunction, Request, Response } from 'express';
import { GlintError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import { ApiErrorCode } from './error-codes.ts';
import { framingAnswerOf, type HttpAnswer, httpAnswerOf } from './error-status.ts';

/** Every API error is `{"error":{"code","message","details"}}`. */
export function sendError(res: Response, status: number, code: string, message: string, details?: unknown) {
  res.status(status).json({ error: { code, message, ...(details === undefined ? {} : { details }) } });
}

function sendAnswer(res: Response, answer: HttpAnswer) {
  if (answer.retryAfterSec !== undefined) res.setHeader('Retry-After', String(answer.retryAfterSec));
  sendError(res, answer.status, answer.code, answer.message, answer.details);
}

export function notFound(req: Request, res: Response) {
  sendError(res, 404, ApiErrorCode.NotFound, `no route for ${req.method} ${req.path}`);
}

/**
 * Express error handler: each code answers with the status `HTTP_STATUS_BY_CODE` gives it;
 * anything else becomes a 500 without internals, and the log gets the whole error.
 */
export function errorHandler(log: Logger, leadership: () => { leader: string | null }) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) return req.socket.destroy();
    const answer = framingAnswerOf(err) ?? httpAnswerOf(err, leadership().leader);
    if (answer.status >= 500 && answer.code === ApiErrorCode.Internal) {
      log.error({ err, method: req.method, path: req.path }, 'unhandled API error');
    } else if (answer.status >= 500 && err instanceof GlintError && err.code !== ApiErrorCode.NotLeader) {
      log.warn({ err, method: req.method, path: req.path }, 'API request failed');
    }
    return sendAnswer(res, answer);
  };
}
