import type { AppConfig } from '../config/index.ts';
import { GlintError } from '../errors/index.ts';
import { RolloutErrorCode } from '../rollout/index.ts';
import type { ApiState } from './api-ports.ts';
import type { AppFacts } from './api-views.ts';
import { parseRequestPart } from './parse-request.ts';
import { appName } from './request-schemas.ts';

/** The `:app` of a path: a valid name (400) of a declared app (404). */
export function declaredApp(state: ApiState, raw: unknown): { name: string; config: AppConfig } {
  const name = parseRequestPart(appName, 'path', raw);
  const config = state.apps()[name];
  if (!config)
    throw new GlintError(
      RolloutErrorCode.UnknownApp,
      `no app named ${name} is declared; GET /v1/apps lists the apps`,
      { details: { app: name } },
    );
  return { name, config };
}

/** Deployments read per app for its summary: enough for the active one and the last rotation. */
const RECENT_DEPLOYMENTS = 50;

export async function appFacts(state: ApiState, name: string, config: AppConfig): Promise<AppFacts> {
  const [app, deployments, ready] = await Promise.all([
    state.state.getApp(name),
    state.state.listDeployments(name, { limit: RECENT_DEPLOYMENTS }),
    state.ready(name),
  ]);
  return { name, config, record: app?.record, deployments, ready };
}
