import { GlintError } from '../errors/index.ts';
import { LbErrorCode } from './error-codes.ts';
import type { LbHealthCheck } from './lb-model.ts';
import type { StatRow } from './parse-show-stat.ts';

/** The errors about an app's backend and its servers, each naming the app, the instance and the fix. */
export function unknownApp(appName: string): GlintError {
  return new GlintError(
    LbErrorCode.UnknownApp,
    `the load balancer has no app "${appName}"; apply a structure with it first`,
    { details: { app: appName } },
  );
}

export function unknownServer(appName: string, name: string, fix?: string): GlintError {
  return new GlintError(
    LbErrorCode.UnknownServer,
    `app ${appName} has no instance ${name} in the load balancer${fix ? `; ${fix}` : ''}`,
    { details: { app: appName, instance: name } },
  );
}

export function serverNotHealthy(
  appName: string,
  instance: { name: string; address: string; port: number },
  check: LbHealthCheck,
  timeoutMs: number,
  last: StatRow | undefined,
): GlintError {
  const result = last ? `${last.checkStatus || 'no check yet'} ${last.checkCode}`.trim() : 'none';
  const what = check.type === 'http' ? `GET ${check.path}` : 'TCP connect';
  return new GlintError(
    LbErrorCode.ServerNotHealthy,
    `instance ${instance.name} of app ${appName} did not pass HAProxy's check (${what}) within ${timeoutMs}ms (last result: ${result}); it was taken out of the backend. Check that it answers on ${instance.address}:${instance.port}.`,
    { details: { app: appName, instance: instance.name, checkStatus: last?.checkStatus } },
  );
}

/** HAProxy answered that the server (or its backend) does not exist. */
export function isNoSuchServer(err: unknown): boolean {
  return err instanceof GlintError && /no such (server|backend)/i.test(String(err.details?.reason));
}
