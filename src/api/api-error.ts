import type { NextFunction, Request, Response } from 'express';
import { GlintError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';

/** Every API error is `{"error":{"code","message","details"}}`. */
export function sendError(res: Response, status: number, code: string, message: string, details?: unknown) {
  res.status(status).json({ error: { code, message, ...(details === undefined ? {} : { details }) } });
}

export function notFound(req: Request, res: Response) {
  sendError(res, 404, 'NotFound', `no route for ${req.method} ${req.path}`);
}

/** Express error handler: known errors keep their code, the rest become a 500 without internals. */
export function errorHandler(log: Logger) {
  return (err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof SyntaxError && 'body' in err) {
      return sendError(res, 400, 'InvalidJson', 'the request body is not valid JSON');
    }
    if (err instanceof GlintError) return sendError(res, 400, err.code, err.message, err.details);
    log.error({ err }, 'unhandled API error');
    return sendError(res, 500, 'Internal', 'internal error; the daemon log has the details');
  };
}
