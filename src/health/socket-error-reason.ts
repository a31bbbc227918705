const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EPIPE: 'connection closed',
};

/** A socket error in the words a probe reports ("connection refused"). */
export function socketErrorReason(err: Error & { code?: string }): string {
  if (err.code && REASONS[err.code]) return REASONS[err.code]!;
  // Docker's port proxy accepts the connection and then closes it when nothing listens inside.
  if (err.message === 'socket hang up') return 'connection closed before a response';
  return err.code ? `${err.code}: ${err.message}` : err.message;
}
