/**
 * Base of every error glint raises on purpose. `code` is a stable constant that callers (and
 * the API's `{"error":{"code","message","details"}}`) branch on; `message` is for people and
 * should say what to do next. Never branch on `message`.
 */
export class GlintError extends Error {
  override name = 'GlintError';
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: string,
    message: string,
    opts: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.details = opts.details;
  }
}

/** Worth retrying with backoff: the engine, registry, etcd or HAProxy may answer next time. */
export class TransientError extends GlintError {
  override name = 'TransientError';
}

export function isTransient(err: unknown): boolean {
  return err instanceof TransientError;
}
