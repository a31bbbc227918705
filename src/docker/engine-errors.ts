import { GlintError, TransientError } from '../errors/index.ts';
import { DockerErrorCode } from './error-codes.ts';

type EngineFailure = { statusCode?: number; code?: string; json?: { message?: string }; message?: string };

/** The engine's own words for a failed call (dockerode puts them in `json.message`). */
export function engineMessage(err: unknown): string {
  const e = err as EngineFailure;
  return e.json?.message ?? e.message ?? String(err);
}

const SOCKET_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH']);

/** Maps a dockerode failure to a glint error; `what` says which call on which object failed. */
export function translateEngineError(err: unknown, what: string): Error {
  if (err instanceof GlintError) return err;
  if ((err as Error)?.name === 'AbortError') return err as Error;
  const e = err as EngineFailure;
  const message = engineMessage(err);
  if (e.code && SOCKET_CODES.has(e.code)) {
    return new TransientError(
      DockerErrorCode.EngineUnreachable,
      `${what}: the Docker engine does not answer (${e.code}); check that dockerd runs and glint can reach its socket`,
      { cause: err },
    );
  }
  if (e.statusCode === 404) {
    return new GlintError(DockerErrorCode.ContainerNotFound, `${what}: ${message}`, { cause: err });
  }
  if (e.statusCode === 409 && /already in use/i.test(message)) {
    return new GlintError(
      DockerErrorCode.ContainerNameConflict,
      `${what}: ${message}; a container with this name exists, remove it or pick another instance id`,
      { cause: err },
    );
  }
  return new GlintError(DockerErrorCode.EngineError, `${what}: ${message}`, { cause: err });
}

export function isNotFound(err: unknown): boolean {
  return (err as EngineFailure)?.statusCode === 404;
}

/** Another call is removing the container (a caller stopped mid-removal and a new one began). */
export function isRemovalInProgress(err: unknown): boolean {
  const e = err as EngineFailure;
  return e?.statusCode === 409 && /removal of container .* is already in progress/i.test(engineMessage(err));
}
