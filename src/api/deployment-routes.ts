import { type Request, type Response, Router } from 'express';
import { GlintError } from '../errors/index.ts';
import { type DeploymentRecord, StateErrorCode } from '../etcd/index.ts';
import type { ApiState } from './api-ports.ts';
import { deploymentView } from './api-views.ts';
import { appOfDeploymentId } from './app-of-deployment.ts';
import { requireRole } from './authenticate.ts';
import { awaitDeploymentEnd } from './await-deployment-end.ts';
import { declaredApp } from './declared-app.ts';
import { parseRequestPart } from './parse-request.ts';
import { deploymentGetQuery, deploymentId, deploymentListQuery } from './request-schemas.ts';

const CONTROLS = ['pause', 'resume', 'cancel', 'promote'] as const;

function deploymentOf(req: Request): { app: string; id: string } {
  const id = parseRequestPart(deploymentId, 'path', req.params.id);
  return { app: appOfDeploymentId(id), id };
}

async function stored(state: ApiState, app: string, id: string): Promise<DeploymentRecord> {
  const found = await state.state.getDeployment(app, id);
  if (!found)
    throw new GlintError(StateErrorCode.DeploymentNotFound, `${app} has no deployment ${id}`, {
      details: { app, id },
    });
  return found.record;
}

/** Aborts when the wait runs out, the client goes away, or the daemon shuts down. */
function waitSignal(res: Response, seconds: number, shutdown: AbortSignal): AbortSignal {
  const left = new AbortController();
  res.once('close', () => left.abort());
  return AbortSignal.any([AbortSignal.timeout(seconds * 1000), left.signal, shutdown]);
}

/** Deployments across apps: list, read (and wait for the end), and control a running one. */
/** "Do not wait": one signal aborted once, not a new one (and its DOMException) per request. */
const ALREADY_ENDED = AbortSignal.abort();

export function deploymentRoutes(state: ApiState, shutdown: AbortSignal): Router {
  const r = Router({ caseSensitive: true });
  r.get('/v1/deployments', requireRole('read'), async (req, res) => {
    const query = parseRequestPart(deploymentListQuery, 'query', req.query);
    const apps = query.app ? [declaredApp(state, query.app).name] : Object.keys(state.apps());
    const lists = await Promise.all(apps.map((app) => state.state.listDeployments(app)));
    const deployments = lists
      .flat()
      .filter((d) => query.state === undefined || d.state === query.state)
      .sort((a, b) =>
        a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : b.id.localeCompare(a.id),
      )
      .slice(0, query.limit);
    res.json({ deployments: deployments.map(deploymentView) });
  });

  r.get('/v1/deployments/:id', requireRole('read'), async (req, res) => {
    const { app, id } = deploymentOf(req);
    const { wait } = parseRequestPart(deploymentGetQuery, 'query', req.query);
    // Without a wait: what etcd holds, from the read cache (the leader writes every change).
    const record = await awaitDeploymentEnd(
      state,
      app,
      id,
      wait ? waitSignal(res, wait, shutdown) : ALREADY_ENDED,
    );
    res.json(deploymentView(record));
  });

  for (const action of CONTROLS) {
    r.post(`/v1/deployments/:id/${action}`, requireRole('deploy'), async (req, res) => {
      const { app, id } = deploymentOf(req);
      await stored(state, app, id);
      res.json(deploymentView(await state.control[action](app, id)));
    });
  }
  return r;
}
