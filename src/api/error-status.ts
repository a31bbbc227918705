import { ConfigErrorCode } from '../config/index.ts';
import { DockerErrorCode } from '../docker/index.ts';
import { GlintError, isTransient } from '../errors/index.ts';
import { EnvErrorCode, EtcdErrorCode, StateErrorCode } from '../etcd/index.ts';
import { HealthErrorCode } from '../health/index.ts';
import { ReleaseErrorCode, RolloutErrorCode } from '../rollout/index.ts';
import { ApiErrorCode } from './error-codes.ts';

/** Seconds a client waits before retrying: an election settles within a lease, trouble takes longer. */
export const RETRY_AFTER_NOT_LEADER_SEC = 1;
export const RETRY_AFTER_TRANSIENT_SEC = 5;

/**
 * The HTTP status of every error code glint raises, in one table. Transient errors are 503
 * whatever their code (see `httpAnswerOf`); they are listed for completeness. A code missing
 * here answers 500 without its message, so a new code must be placed to be seen by clients.
 */
export const HTTP_STATUS_BY_CODE: Readonly<Record<string, number>> = {
  // 400: the request or the declaration is wrong; the message says which field and the fix.
  [ApiErrorCode.InvalidJson]: 400,
  [ApiErrorCode.InvalidRequest]: 400,
  [ConfigErrorCode.InvalidConfig]: 400,
  [DockerErrorCode.InvalidSpec]: 400,
  [HealthErrorCode.InvalidHealthCheck]: 400,
  [EnvErrorCode.InvalidVariableName]: 400,
  [EnvErrorCode.ValueTooLarge]: 400,
  [EnvErrorCode.DuplicateVariable]: 400,
  [EnvErrorCode.InvalidServiceReference]: 400,
  [EnvErrorCode.ServiceFrontendUnknown]: 400,
  // 401/403: who is asking, and whether they may.
  [ApiErrorCode.Unauthorized]: 401,
  [ApiErrorCode.Forbidden]: 403,
  // 404: the thing named does not exist.
  [ApiErrorCode.NotFound]: 404,
  [DockerErrorCode.ContainerNotFound]: 404,
  [StateErrorCode.DeploymentNotFound]: 404,
  [DockerErrorCode.UnknownNode]: 404,
  [RolloutErrorCode.UnknownApp]: 404,
  // 409: the request collides with the current state; looking again may show why.
  [DockerErrorCode.ContainerNameConflict]: 409,
  [DockerErrorCode.NotManaged]: 409,
  [DockerErrorCode.ImageNotPresent]: 409,
  [DockerErrorCode.PortNotPublished]: 409,
  [DockerErrorCode.ContainerAddressUnknown]: 409,
  [DockerErrorCode.HostPortsExhausted]: 409,
  [StateErrorCode.Conflict]: 409,
  [StateErrorCode.DeploymentInProgress]: 409,
  [StateErrorCode.InvalidTransition]: 409,
  [RolloutErrorCode.NothingToRollBack]: 409,
  [RolloutErrorCode.NotRunningHere]: 409,
  [EnvErrorCode.ServiceReferenceUnresolved]: 409,
  [HealthErrorCode.Unhealthy]: 409,
  [ApiErrorCode.IdempotencyKeyReused]: 409,
  // 413/415/431: the request's shape, before any field is read.
  [ApiErrorCode.PayloadTooLarge]: 413,
  [ApiErrorCode.UnsupportedMediaType]: 415,
  [ApiErrorCode.HeadersTooLarge]: 431,
  // 422: well-formed, but what it names can't be deployed; the message is the resolver's
  // (e.g. the newest stamped tags), so CI shows the reason as it is.
  [DockerErrorCode.TagNotFound]: 422,
  [DockerErrorCode.RepositoryNotFound]: 422,
  [DockerErrorCode.ManifestNotFound]: 422,
  [DockerErrorCode.NoStampedVersion]: 422,
  [DockerErrorCode.StampMismatch]: 422,
  [DockerErrorCode.StampMissing]: 422,
  [DockerErrorCode.InvalidImageRequest]: 422,
  [ApiErrorCode.ImageNotAllowed]: 422,
  [ApiErrorCode.UnknownVersion]: 422,
  // 500: glint's own setup or stored data is wrong; the message says what to fix.
  [ApiErrorCode.Internal]: 500,
  [ConfigErrorCode.SecretMissing]: 500,
  [DockerErrorCode.ServiceAddressUnknown]: 500,
  [ReleaseErrorCode.SecretGone]: 409,
  [StateErrorCode.InvalidRecord]: 500,
  // 502/504: a component behind glint refused or did not finish.
  [DockerErrorCode.RegistryAuthFailed]: 502,
  [DockerErrorCode.RegistryProtocol]: 502,
  [DockerErrorCode.PullFailed]: 502,
  [DockerErrorCode.EngineError]: 502,
  [EtcdErrorCode.AuthFailed]: 502,
  [EtcdErrorCode.PermissionDenied]: 502,
  [EtcdErrorCode.Failed]: 502,
  [DockerErrorCode.PullTimeout]: 504,
  [HealthErrorCode.HealthDeadlineExceeded]: 504,
  // 503: try again (with Retry-After).
  [ApiErrorCode.NotLeader]: 503,
  [EtcdErrorCode.Closed]: 503,
  [DockerErrorCode.RegistryUnreachable]: 503,
  [DockerErrorCode.RegistryTimeout]: 503,
  [DockerErrorCode.PullInterrupted]: 503,
  [DockerErrorCode.EngineUnreachable]: 503,
  [DockerErrorCode.ExecTimeout]: 503,
  [EtcdErrorCode.Unavailable]: 503,
  [EtcdErrorCode.LeaseLost]: 503,
};

export type HttpAnswer = {
  status: number;
  code: string;
  message: string;
  details?: Record<string, unknown>;
  /** Seconds, for the `Retry-After` header. */
  retryAfterSec?: number;
};

const INTERNAL_MESSAGE = 'internal error; the daemon log has the details';

/**
 * What the API answers for an error. Pure: `leader` is who leads now, for a NotLeader raised
 * below the API that did not name one. Only errors with a placed code keep their message.
 */
export function httpAnswerOf(err: unknown, leader: string | null): HttpAnswer {
  if (!(err instanceof GlintError))
    return { status: 500, code: ApiErrorCode.Internal, message: INTERNAL_MESSAGE };
  const known = { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) };
  if (err.code === ApiErrorCode.NotLeader) {
    return {
      ...known,
      status: 503,
      details: { ...err.details, leader: err.details?.leader ?? leader },
      retryAfterSec: RETRY_AFTER_NOT_LEADER_SEC,
    };
  }
  if (isTransient(err)) return { ...known, status: 503, retryAfterSec: RETRY_AFTER_TRANSIENT_SEC };
  const status = HTTP_STATUS_BY_CODE[err.code];
  if (status === undefined) return { status: 500, code: ApiErrorCode.Internal, message: INTERNAL_MESSAGE };
  return status === 503
    ? { ...known, status, retryAfterSec: RETRY_AFTER_TRANSIENT_SEC }
    : { ...known, status };
}

const FRAMING: Readonly<Record<string, Omit<HttpAnswer, 'status'> & { status: number }>> = {
  'entity.parse.failed': {
    status: 400,
    code: ApiErrorCode.InvalidJson,
    message: 'the request body is not valid JSON',
  },
  'entity.too.large': {
    status: 413,
    code: ApiErrorCode.PayloadTooLarge,
    message: 'the request body is larger than the API accepts; request bodies are small JSON objects',
  },
  'encoding.unsupported': {
    status: 415,
    code: ApiErrorCode.UnsupportedMediaType,
    message: 'send the body without Content-Encoding',
  },
  'charset.unsupported': {
    status: 415,
    code: ApiErrorCode.UnsupportedMediaType,
    message: 'send the body as UTF-8 JSON',
  },
};

/**
 * Errors raised while a request is read, before any route runs: the body parser's (by their
 * `type`) and any other 4xx the HTTP layer raises (a path that does not decode). Pure; undefined
 * for every other error.
 */
export function framingAnswerOf(err: unknown): HttpAnswer | undefined {
  if (typeof err !== 'object' || err === null || err instanceof GlintError) return undefined;
  const { type, status } = err as { type?: unknown; status?: unknown };
  if (typeof type === 'string' && FRAMING[type]) return { ...FRAMING[type] };
  if (typeof status === 'number' && status >= 400 && status < 500)
    return {
      status: 400,
      code: ApiErrorCode.InvalidRequest,
      message: 'the request could not be read (a path segment or the body is malformed)',
    };
  return undefined;
}
