/** Stable codes of the errors the API itself answers with (route, body, leadership, auth). */
export const ApiErrorCode = {
  /** No route for this method and path. */
  NotFound: 'NotFound',
  /** The request body is not valid JSON. */
  InvalidJson: 'InvalidJson',
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
