import type { NextFunction, Request, Response } from 'express';
import { GlintError } from '../errors/index.ts';
import { ApiErrorCode } from './error-codes.ts';

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** A write that carries a body must say it is JSON; an empty body stands for `{}`. */
export function requireJsonBody(req: Request, _res: Response, next: NextFunction) {
  if (!WRITES.has(req.method)) return next();
  const length = req.headers['content-length'];
  const hasBody = req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
  if (!hasBody || req.is(['application/json', 'application/*+json'])) return next();
  return next(
    new GlintError(
      ApiErrorCode.UnsupportedMediaType,
      `send the body as JSON with Content-Type: application/json (got ${String(req.get('content-type') ?? 'none').slice(0, 100)})`,
    ),
  );
}
