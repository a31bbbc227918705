import express, { type Express } from 'express';
import type { Logger } from '../log/index.ts';
import type { RolloutEvents } from '../rollout/index.ts';
import { errorHandler, notFound } from './api-error.ts';
import type { ApiState } from './api-ports.ts';
import type { TokenTable } from './api-tokens.ts';
import { appRoutes } from './app-routes.ts';
import { authenticate, requireRole } from './authenticate.ts';
import { deploymentRoutes } from './deployment-routes.ts';
import { EventStream, type EventStreamOptions } from './event-stream.ts';
import { nodeRoutes } from './node-routes.ts';
import { openApiDocument } from './openapi-document.ts';
import { checkReadiness, type ReadinessCheck } from './readiness.ts';
import { requestLog } from './request-log.ts';
import { type AnswerObserver, requestTiming } from './request-timing.ts';
import { requireJsonBody } from './require-json-body.ts';
import { requireLeaderForWrites } from './require-leader.ts';

/** Request bodies are small JSON objects; anything larger is refused with 413 before parsing. */
const BODY_LIMIT = '64kb';

export type ApiDeps = {
  log: Logger;
  readiness: ReadinessCheck[];
  version: string;
  /** Which daemon leads; followers serve reads and point writers at the leader. */
  leadership: () => { isLeader: boolean; leader: string | null };
  /** Read on every request, so a reload can change the tokens. */
  tokens: () => TokenTable;
  state: ApiState;
  /** Aborted when the daemon stops: event streams end and long polls answer. */
  shutdown: AbortSignal;
  events?: EventStreamOptions;
  /** Events from elsewhere than the engine: on a daemon that does not lead, those read from etcd. */
  eventSources?: readonly RolloutEvents[];
  /** Prometheus: `/metrics` (no token, like `/healthz`) and the time of each answer. */
  metrics?: { scrape: () => Promise<{ contentType: string; body: string }>; apiAnswered: AnswerObserver };
};

/**
 * The daemon's HTTP surface. `/healthz` says the process serves; `/readyz` says its
 * dependencies (Docker, etcd) answer, so an orchestrator can wait on it; `/metrics` is for
 * Prometheus. Everything else needs
 * a bearer token: `/v1` (apps, deployments, events) and `/openapi.json`.
 */
export function createApi(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // Express hashes every answer for an ETag no client of this API sends back; at a thousand
  // GET /v1/apps a second (40 KB each for 100 apps) that hashing was a tenth of the daemon's CPU.
  app.set('etag', false);
  // `/V1/...` is not `/v1/...`: the guards that look at the path and the routes must agree.
  app.set('case sensitive routing', true);
  app.use(requestLog(deps.log));
  const metrics = deps.metrics;
  if (metrics) {
    app.use(requestTiming((...answer) => metrics.apiAnswered(...answer)));
    app.get('/metrics', async (_req, res) => {
      const { contentType, body } = await metrics.scrape();
      res.type(contentType).send(body);
    });
  }

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', version: deps.version });
  });
  app.get('/readyz', async (_req, res) => {
    const report = await checkReadiness(deps.readiness);
    res.status(report.ready ? 200 : 503).json({ ...report, ...deps.leadership() });
  });

  app.use(['/v1', '/openapi.json'], authenticate(deps.tokens));
  app.use(requireLeaderForWrites(deps.leadership));
  app.use(requireJsonBody);
  app.use(express.json({ limit: BODY_LIMIT }));

  const document = openApiDocument(deps.version);
  app.get('/openapi.json', requireRole('read'), (_req, res) => {
    res.json(document);
  });
  app.use(appRoutes(deps.state));
  app.use(deploymentRoutes(deps.state, deps.shutdown));
  app.use(nodeRoutes(deps.state));
  const stream = new EventStream([deps.state.control.events, ...(deps.eventSources ?? [])], deps.events);
  app.get('/v1/events', requireRole('read'), stream.handle);
  deps.shutdown.addEventListener('abort', () => stream.close(), { once: true });

  app.use(notFound);
  app.use(errorHandler(deps.log, deps.leadership));
  return app;
}
