import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../log/index.ts';
import type { Caller } from './api-tokens.ts';

const CLIENT_ID = /^[A-Za-z0-9._-]{1,64}$/;
const QUIET_PATHS = new Set(['/healthz', '/readyz']);

/**
 * One log line per request, when it ends: id, method, path, status, time and the caller's
 * token name. Headers and bodies are never logged (they carry tokens and env). A client's
 * `X-Request-Id` is kept when it is a plain id, so CI logs and glint's can be matched.
 */
export function requestLog(log: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const given = req.get('x-request-id');
    const id = given && CLIENT_ID.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', id);
    const started = performance.now();
    let logged = false;
    const done = () => {
      if (logged) return;
      logged = true;
      const caller = res.locals.caller as Caller | undefined;
      const line = {
        reqId: id,
        method: req.method,
        path: req.path.length > 200 ? `${req.path.slice(0, 200)}…` : req.path,
        status: res.headersSent ? res.statusCode : 0,
        ms: Math.round(performance.now() - started),
        ...(caller ? { caller: caller.name } : {}),
        ...(res.writableFinished ? {} : { aborted: true }),
      };
      if (QUIET_PATHS.has(req.path)) log.debug(line, 'request');
      else log.info(line, 'request');
    };
    res.once('finish', done);
    res.once('close', done);
    next();
  };
}
