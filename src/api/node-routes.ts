import { Router } from 'express';
import type { ApiState } from './api-ports.ts';
import { requireRole } from './authenticate.ts';

/**
 * `GET /v1/nodes`: every declared Docker engine with what this daemon's node health says of it
 * and what glint runs there. Any daemon answers from its own pings; instances are counted from
 * one list call per engine that is not down.
 */
export function nodeRoutes(state: ApiState): Router {
  const r = Router({ caseSensitive: true });
  r.get('/v1/nodes', requireRole('read'), async (_req, res) => {
    res.json({ nodes: state.nodes ? await state.nodes() : [] });
  });
  return r;
}
