import type { NextFunction, Request, Response } from 'express';

/** Called once per answered request with its route pattern (`/v1/apps/:app`), never the raw path. */
export type AnswerObserver = (method: string, route: string, status: number, seconds: number) => void;

/**
 * Times each answer for the metrics. Long polls (`?wait=`) and the event stream wait on
 * purpose and are left out; a request no route matched counts as `unmatched`, so a client
 * probing random paths cannot create a label per path.
 */
export function requestTiming(observe: AnswerObserver) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.query.wait !== undefined || req.path === '/v1/events' || req.path === '/metrics') return next();
    const started = performance.now();
    res.once('finish', () => {
      const pattern = req.route?.path;
      const route = typeof pattern === 'string' ? `${req.baseUrl}${pattern}` : 'unmatched';
      observe(req.method, route, res.statusCode, (performance.now() - started) / 1000);
    });
    next();
  };
}
