import express, { type Express } from 'express';
import type { Logger } from '../log/index.ts';
import { errorHandler, notFound } from './api-error.ts';
import { checkReadiness, type ReadinessCheck } from './readiness.ts';
import { requireLeaderForWrites } from './require-leader.ts';

export type ApiDeps = {
  log: Logger;
  readiness: ReadinessCheck[];
  version: string;
  /** Which daemon leads; followers serve reads and point writers at the leader. */
  leadership: () => { isLeader: boolean; leader: string | null };
};

/**
 * The daemon's HTTP surface. `/healthz` says the process serves; `/readyz` says its
 * dependencies (Docker, etcd) answer, so an orchestrator can wait on it.
 */
export function createApi(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '256kb' }));
  app.use(requireLeaderForWrites(deps.leadership));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', version: deps.version });
  });
  app.get('/readyz', async (_req, res, next) => {
    try {
      const report = await checkReadiness(deps.readiness);
      res.status(report.ready ? 200 : 503).json({ ...report, ...deps.leadership() });
    } catch (err) {
      next(err);
    }
  });

  app.use(notFound);
  app.use(errorHandler(deps.log, deps.leadership));
  return app;
}
