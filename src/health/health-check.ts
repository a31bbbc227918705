import { GlintError } from '../errors/index.ts';
import { HealthErrorCode } from './error-codes.ts';

/**
 * How an instance's health is decided. Field names and units match the app declaration's
 * `health` block after validation (durations in milliseconds), so a declaration is passed as is.
 */
export type HealthTiming = {
  /** Between two probes, ms. */
  interval: number;
  /** One probe's bound, ms. */
  timeout: number;
  /** Consecutive passes that make an instance healthy. */
  healthyThreshold: number;
  /** Consecutive failures that make a healthy (or started) instance unhealthy. */
  unhealthyThreshold: number;
  /** After start, failures do not count for this long, ms. */
  gracePeriod: number;
};

export type HealthCheck =
  | ({ type: 'http'; path: string /** `200` or `200-399`. */; expectStatus: string } & HealthTiming)
  | ({ type: 'tcp' } & HealthTiming)
  | ({ type: 'exec'; command: string[] } & HealthTiming)
  | ({ type: 'docker' } & HealthTiming);

export type ProbeResult = { ok: boolean; reason: string };

/** `'200-399'` → [200, 399]; `'204'` → [204, 204]. */
export function parseStatusRange(text: string): [number, number] {
  const match = /^([1-5]\d\d)(?:-([1-5]\d\d))?$/.exec(text.trim());
  if (!match)
    throw new GlintError(
      HealthErrorCode.InvalidHealthCheck,
      `invalid status range '${text}': expected e.g. '200' or '200-399'`,
    );
  const low = Number(match[1]);
  const high = match[2] ? Number(match[2]) : low;
  if (high < low)
    throw new GlintError(
      HealthErrorCode.InvalidHealthCheck,
      `invalid status range '${text}': the upper bound is below the lower`,
    );
  return [low, high];
}
