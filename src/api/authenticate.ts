import type { NextFunction, Request, Response } from 'express';
import { GlintError } from '../errors/index.ts';
import { bearerTokenOf, type Caller, type Role, roleAllows, type TokenTable } from './api-tokens.ts';
import { ApiErrorCode } from './error-codes.ts';

/**
 * Every request it guards carries `Authorization: Bearer <token>` naming a known token; the
 * caller (name and role, never the token) is kept for the routes and the request log.
 */
export function authenticate(tokens: () => TokenTable) {
  return (req: Request, res: Response, next: NextFunction) => {
    const token = bearerTokenOf(req.get('authorization'));
    const caller = token === undefined ? undefined : tokens().identify(token);
    if (caller) {
      res.locals.caller = caller;
      return next();
    }
    res.setHeader('WWW-Authenticate', 'Bearer realm="glint"');
    return next(
      new GlintError(
        ApiErrorCode.Unauthorized,
        token === undefined
          ? 'send an API token as Authorization: Bearer <token> (the admin token or one of api.tokens)'
          : 'the API token is not known; use the admin token or one of api.tokens',
      ),
    );
  };
}

export function callerOf(res: Response): Caller {
  const caller = res.locals.caller as Caller | undefined;
  if (!caller) throw new GlintError(ApiErrorCode.Unauthorized, 'no authenticated caller');
  return caller;
}

/** 403 unless the caller's role includes `need`. */
export function requireRole(need: Role) {
  return (_req: Request, res: Response, next: NextFunction) => {
    const caller = callerOf(res);
    if (roleAllows(caller.role, need)) return next();
    return next(
      new GlintError(
        ApiErrorCode.Forbidden,
        `token '${caller.name}' has the role ${caller.role}; this needs ${need} or above`,
        { details: { role: caller.role, needs: need } },
      ),
    );
  };
}
