/** Stable codes of the errors the health room raises; callers and the API branch on these. */
export const HealthErrorCode = {
  /** A health check declaration that cannot be probed (e.g. a malformed status range). */
  InvalidHealthCheck: 'InvalidHealthCheck',
  /** The instance failed its check `unhealthyThreshold` times in a row. */
  Unhealthy: 'Unhealthy',
  /** The instance was not healthy within its deadline. */
  HealthDeadlineExceeded: 'HealthDeadlineExceeded',
} as const;

export type HealthErrorCode = (typeof HealthErrorCode)[keyof typeof HealthErrorCode];
