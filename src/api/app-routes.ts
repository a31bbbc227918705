import { type Request, type Response, Router } from 'express';
import type { AppConfig } from '../config/index.ts';
import { GlintError } from '../errors/index.ts';
import type { DeploymentRequest } from '../rollout/index.ts';
import type { ApiState } from './api-ports.ts';
import { appDetail, appSummary } from './api-views.ts';
import { callerOf, requireRole } from './authenticate.ts';
import { appFacts, declaredApp } from './declared-app.ts';
import { requestedTarget } from './deploy-target.ts';
import { ApiErrorCode } from './error-codes.ts';
import { parseRequestPart } from './parse-request.ts';
import { deployBody, rollbackBody, rotationBody, scaleBody } from './request-schemas.ts';
import { answerStarted, idempotencyKeyOf } from './start-deployment.ts';

/** `what requested by <token name>: <reason>`, for the record and the logs. */
function causeOf(res: Response, what: string, reason: string | undefined): string {
  const by = `${what} requested by ${callerOf(res).name} through the API`;
  return reason ? `${by}: ${reason}` : by;
}

/** An absent body stands for `{}`. */
const bodyOf = (req: Request): unknown => req.body ?? {};

async function rollbackRequest(
  state: ApiState,
  app: string,
  version: string | undefined,
): Promise<DeploymentRequest> {
  if (version === undefined) return { kind: 'rollback' };
  const history = (await state.state.getApp(app))?.record.history ?? [];
  const release = history.find((h) => h.version === version);
  if (!release)
    throw new GlintError(
      ApiErrorCode.UnknownVersion,
      `${app} has not run ${version}; versions it ran: ${[...new Set(history.map((h) => h.version))].join(', ') || 'none yet'}`,
      { details: { app, version } },
    );
  const { deploymentId: _id, deployedAt: _at, ...plain } = release;
  return { kind: 'rollback', release: plain };
}

function deployRequest(app: string, config: AppConfig, req: Request, res: Response): DeploymentRequest {
  const body = parseRequestPart(deployBody, 'body', bodyOf(req));
  const { version, repository } = requestedTarget(app, config, body);
  const { canary, ...strategy } = body.strategy ?? {};
  return {
    kind: 'deploy',
    version,
    ...(repository ? { repository } : {}),
    ...(canary === undefined ? {} : { canary }),
    ...(Object.keys(strategy).length > 0 ? { strategy } : {}),
    cause: causeOf(res, `deploy ${version}`, body.reason),
  };
}

/** Apps: their state, and the writes that start a deployment of one. */
export function appRoutes(state: ApiState): Router {
  const r = Router({ caseSensitive: true });
  // The last answer to GET /v1/apps, sent again while no record and no declaration changed:
  // a dashboard polling a hundred apps costs one JSON rendering per change, not per request.
  // Kept as bytes: express would otherwise copy the 40 KB string into a new buffer per answer,
  // and that churn of external memory is what set off the collector's long pauses under load.
  let lastApps: { version: number; declared: object; rotations: string; body: Buffer } | undefined;
  r.get('/v1/apps', requireRole('read'), async (_req, res) => {
    const version = state.recordsVersion?.();
    const declared = state.apps();
    // Next rotations live in the scheduler, not in etcd: they are part of what must not change.
    const rotations = Object.keys(declared)
      .map((app) => state.nextRotation(app))
      .join();
    if (
      version !== undefined &&
      lastApps?.version === version &&
      lastApps.declared === declared &&
      lastApps.rotations === rotations
    ) {
      res.type('json').send(lastApps.body);
      return;
    }
    const apps = Object.entries(declared).sort(([a], [b]) => a.localeCompare(b));
    const facts = await Promise.all(apps.map(([name, config]) => appFacts(state, name, config)));
    const body = Buffer.from(JSON.stringify({ apps: facts.map((f) => appSummary(f, state.nextRotation)) }));
    // Kept only if nothing changed while it was built.
    if (version !== undefined && state.recordsVersion?.() === version)
      lastApps = { version, declared, rotations, body };
    res.type('json').send(body);
  });

  r.get('/v1/apps/:app', requireRole('read'), async (req, res) => {
    const { name, config } = declaredApp(state, req.params.app);
    const [facts, instances] = await Promise.all([appFacts(state, name, config), state.instances(name)]);
    res.json({
      ...appDetail(facts, instances, state.clock.now(), state.nextRotation),
      healing: state.healing?.(name) ?? null,
    });
  });

  r.post('/v1/apps/:app/deployments', requireRole('deploy'), async (req, res) => {
    const { name, config } = declaredApp(state, req.params.app);
    const request = deployRequest(name, config, req, res);
    await answerStarted(res, state, name, request, idempotencyKeyOf(req.get('idempotency-key')));
  });

  r.post('/v1/apps/:app/rotations', requireRole('deploy'), async (req, res) => {
    const { name } = declaredApp(state, req.params.app);
    const body = parseRequestPart(rotationBody, 'body', bodyOf(req));
    const request: DeploymentRequest = { kind: 'rotate', cause: causeOf(res, 'rotation', body.reason) };
    await answerStarted(res, state, name, request, idempotencyKeyOf(req.get('idempotency-key')));
  });

  r.post('/v1/apps/:app/rollback', requireRole('deploy'), async (req, res) => {
    const { name } = declaredApp(state, req.params.app);
    const body = parseRequestPart(rollbackBody, 'body', bodyOf(req));
    const request = await rollbackRequest(state, name, body.version);
    const what = body.version ? `rollback to ${body.version}` : 'rollback';
    await answerStarted(
      res,
      state,
      name,
      { ...request, cause: causeOf(res, what, body.reason) },
      idempotencyKeyOf(req.get('idempotency-key')),
    );
  });

  r.put('/v1/apps/:app/scale', requireRole('deploy'), async (req, res) => {
    const { name } = declaredApp(state, req.params.app);
    const body = parseRequestPart(scaleBody, 'body', bodyOf(req));
    const request: DeploymentRequest = {
      kind: 'scale',
      instances: body.instances,
      cause: causeOf(res, `scale to ${body.instances}`, body.reason),
    };
    await answerStarted(res, state, name, request, idempotencyKeyOf(req.get('idempotency-key')));
  });
  return r;
}
