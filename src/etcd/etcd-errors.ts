import { isBrokenCircuitError } from 'cockatiel';
import {
  ClientClosedError,
  EtcdAuthenticationFailedError,
  EtcdLeaseInvalidError,
  EtcdPermissionDeniedError,
  isRecoverableError,
} from 'etcd3';
import { GlintError, TransientError } from '../errors/index.ts';

export const EtcdErrorCode = {
  Unavailable: 'EtcdUnavailable',
  AuthFailed: 'EtcdAuthFailed',
  PermissionDenied: 'EtcdPermissionDenied',
  LeaseLost: 'EtcdLeaseLost',
  Closed: 'EtcdClientClosed',
  Failed: 'EtcdRequestFailed',
} as const;
export type EtcdErrorCode = (typeof EtcdErrorCode)[keyof typeof EtcdErrorCode];

/**
 * Maps an etcd3/grpc error to a glint error. Network and server trouble becomes a
 * TransientError (retry with backoff); auth and permission problems are permanent because
 * retrying can't fix a wrong password.
 */
export function translateEtcdError(err: unknown, doing: string): GlintError {
  if (err instanceof GlintError) return err;
  const cause = err;
  const detail = err instanceof Error ? err.message : String(err);
  if (err instanceof EtcdAuthenticationFailedError) {
    return new GlintError(
      EtcdErrorCode.AuthFailed,
      `etcd refused the credentials while ${doing}: check the etcd user name and password`,
      { cause },
    );
  }
  if (err instanceof EtcdPermissionDeniedError) {
    return new GlintError(
      EtcdErrorCode.PermissionDenied,
      `etcd denied access while ${doing}: grant the etcd user read/write on the glint prefix`,
      { cause },
    );
  }
  if (err instanceof EtcdLeaseInvalidError) {
    return new TransientError(EtcdErrorCode.LeaseLost, `the etcd lease expired while ${doing}`, { cause });
  }
  if (err instanceof ClientClosedError) {
    return new GlintError(EtcdErrorCode.Closed, `the etcd client was closed while ${doing}`, { cause });
  }
  if ((err instanceof Error && isRecoverableError(err)) || isBrokenCircuitError(err) || isTimeout(err)) {
    return new TransientError(
      EtcdErrorCode.Unavailable,
      `etcd did not answer while ${doing} (${detail}): check that etcd is running and reachable; glint retries`,
      { cause },
    );
  }
  return new GlintError(EtcdErrorCode.Failed, `etcd request failed while ${doing}: ${detail}`, { cause });
}

function isTimeout(err: unknown): boolean {
  return err instanceof Error && /deadline|timed out|ECONNREFUSED|UNAVAILABLE/i.test(err.message);
}

/** Runs `fn`, translating whatever etcd3 throws. */
/**
 * The longest one call may take, retries included. Each try has its deadline, but a call that
 * never settled was seen under heavy load (a deployment's record writer waited on one for
 * minutes): past this it fails as unavailable, and the caller's retry or resume takes over.
 */
export const ETCD_CALL_BOUND_MS = 60_000;

export async function atEdge<T>(
  doing: string,
  fn: () => Promise<T>,
  boundMs: number = ETCD_CALL_BOUND_MS,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new TransientError(
            EtcdErrorCode.Unavailable,
            `${doing}: etcd did not answer within ${boundMs / 1000} s; check that etcd runs and is reachable`,
          ),
        ),
      boundMs,
    );
  });
  try {
    return await Promise.race([fn(), bound]);
  } catch (err) {
    throw translateEtcdError(err, doing);
  } finally {
    clearTimeout(timer);
  }
}
