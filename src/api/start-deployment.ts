import type { Response } from 'express';
import { GlintError } from '../errors/index.ts';
import { type DeploymentRecord, StateErrorCode } from '../etcd/index.ts';
import type { DeploymentRequest } from '../rollout/index.ts';
import type { ApiState } from './api-ports.ts';
import { deploymentView } from './api-views.ts';
import { ApiErrorCode } from './error-codes.ts';
import { parseRequestPart } from './parse-request.ts';
import { idempotencyKey } from './request-schemas.ts';

/** The `Idempotency-Key` header, validated; undefined when absent. */
export function idempotencyKeyOf(header: string | undefined): string | undefined {
  return header === undefined ? undefined : parseRequestPart(idempotencyKey, 'header', header);
}

async function byKey(state: ApiState, app: string, key: string): Promise<DeploymentRecord | undefined> {
  const recent = await state.state.listDeployments(app);
  return recent.find((d) => d.idempotencyKey === key);
}

function replayOf(found: DeploymentRecord, kind: DeploymentRequest['kind'], key: string): DeploymentRecord {
  if (found.kind !== kind)
    throw new GlintError(
      ApiErrorCode.IdempotencyKeyReused,
      `Idempotency-Key '${key}' already started ${found.id} (a ${found.kind}); use a new key for a new request`,
      { details: { deploymentId: found.id } },
    );
  return found;
}

function inProgress(app: string, activeId: string): GlintError {
  return new GlintError(
    StateErrorCode.DeploymentInProgress,
    `${app} already has an active deployment (${activeId}); wait for it, or cancel it first`,
    { details: { app, activeDeploymentId: activeId } },
  );
}

/**
 * Starts a deployment after the checks that need no change: a retry with a known
 * `Idempotency-Key` gets the deployment it started, another active deployment is a 409 naming
 * it. The engine then resolves the version (a 422 with the resolver's reason) before it writes.
 */
async function startChecked(
  state: ApiState,
  app: string,
  request: DeploymentRequest,
  key: string | undefined,
): Promise<{ record: DeploymentRecord; replayed: boolean }> {
  if (key) {
    const found = await byKey(state, app, key);
    if (found) return { record: replayOf(found, request.kind, key), replayed: true };
  }
  const active = await state.state.activeDeployment(app);
  if (active) throw inProgress(app, active);
  try {
    const record = await state.control.startDeployment(app, {
      ...request,
      ...(key ? { idempotencyKey: key } : {}),
    });
    return { record, replayed: false };
  } catch (err) {
    if (!(err instanceof GlintError) || err.code !== StateErrorCode.DeploymentInProgress) throw err;
    // Two requests raced for the lock: the same key's twin won, or another deployment did.
    const found = key ? await byKey(state, app, key) : undefined;
    if (found) return { record: replayOf(found, request.kind, key!), replayed: true };
    const winner = await state.state.activeDeployment(app);
    throw winner ? inProgress(app, winner) : err;
  }
}

/** 202 with the deployment and its `Location`; a replayed retry says so in a header. */
export async function answerStarted(
  res: Response,
  state: ApiState,
  app: string,
  request: DeploymentRequest,
  key: string | undefined,
): Promise<void> {
  const { record, replayed } = await startChecked(state, app, request, key);
  if (replayed) res.setHeader('Idempotent-Replayed', 'true');
  res.status(202).location(`/v1/deployments/${record.id}`).json(deploymentView(record));
}
