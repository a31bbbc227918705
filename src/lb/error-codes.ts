/**
 * Stable codes of the errors the load-balancer room raises. Callers branch on these (never on
 * messages); the API returns them as `error.code`.
 */
export const LbErrorCode = {
  /** An admin or master socket refused, timed out or the call was aborted (transient). */
  SocketUnreachable: 'LbSocketUnreachable',
  /** A socket closed before HAProxy finished its answer (transient). */
  TruncatedAnswer: 'LbTruncatedAnswer',
  /** HAProxy answered something glint does not understand (transient: often a cut answer). */
  UnexpectedAnswer: 'LbUnexpectedAnswer',
  /** HAProxy refused a runtime command; `details.reason` holds its words. */
  CommandFailed: 'LbCommandFailed',
  /** `haproxy -c` rejected a rendered file; nothing was installed. */
  ConfigInvalid: 'LbConfigInvalid',
  ConfigWriteFailed: 'LbConfigWriteFailed',
  /** The model could not be rendered faithfully (a name HAProxy would refuse, ...). */
  InvalidModel: 'LbInvalidModel',
  /** An old worker still routes to a server past the wait. */
  OldWorkerLingers: 'LbOldWorkerLingers',
  ReloadFailed: 'LbReloadFailed',
  ReloadTimeout: 'LbReloadTimeout',
  /** A new server did not pass HAProxy's check in time; it was taken out again. */
  ServerNotHealthy: 'LbServerNotHealthy',
  UnknownApp: 'LbUnknownApp',
  UnknownServer: 'LbUnknownInstance',
  /** `haproxy -c` could not be run (no binary, container gone, exec hung). */
  ValidatorUnavailable: 'LbValidatorUnavailable',
} as const;
export type LbErrorCode = (typeof LbErrorCode)[keyof typeof LbErrorCode];
