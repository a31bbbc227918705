/** Stable codes of the errors the API itself answers with (route, body, leadership, auth). */
export const ApiErrorCode = {
  /** No route for this method and path. */
  NotFound: 'NotFound',
  /** The request body is not valid JSON. */
  InvalidJson: 'InvalidJson',
  /** A field of the body, query or path is missing or wrong; `details.issues` has each path. */
  InvalidRequest: 'InvalidRequest',
  /** A body that is not `application/json`. */
  UnsupportedMediaType: 'UnsupportedMediaType',
  /** The body is larger than the API accepts. */
  PayloadTooLarge: 'PayloadTooLarge',
  /** The request's headers are larger than the server accepts. */
  HeadersTooLarge: 'HeadersTooLarge',
  /** `{image}` names a repository other than the app's declared one. */
  ImageNotAllowed: 'ImageNotAllowed',
  /** A rollback asked for a version the app has not run. */
  UnknownVersion: 'UnknownVersion',
  /** An `Idempotency-Key` reused for a different kind of request. */
  IdempotencyKeyReused: 'IdempotencyKeyReused',
  /** This daemon follows; writes go to the leader named in `details.leader`. */
  NotLeader: 'NotLeader',
  /** No or an unknown API token. */
  Unauthorized: 'Unauthorized',
  /** The token's role may not do this. */
  Forbidden: 'Forbidden',
  /** Anything glint did not expect; the daemon log has the details, the answer has none. */
  Internal: 'Internal',
} as const;

export type ApiErrorCode = (typeof ApiErrorCode)[keyof typeof ApiErrorCode];
