import type { NextFunction, Request, Response } from 'express';
import { GlintError } from '../errors/index.ts';
import { ApiErrorCode } from './error-codes.ts';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Followers serve reads; every write under /v1 is answered with 503 and the leader's address
 * (through the error handler), so a client (CI) can retry against the daemon that acts.
 * Placed before the routes so no write handler ever runs on a follower.
 */
export function requireLeaderForWrites(leadership: () => { isLeader: boolean; leader: string | null }) {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (READS.has(req.method) || !req.path.startsWith('/v1')) return next();
    const { isLeader, leader } = leadership();
    if (isLeader) return next();
    return next(
      new GlintError(
        ApiErrorCode.NotLeader,
        leader
          ? `this daemon is a follower; send writes to the leader at ${leader}`
          : 'no daemon leads right now (an election is under way); retry shortly',
        { details: { leader } },
      ),
    );
  };
}
