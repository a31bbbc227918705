/**
 * Durations in the declaration are strings such as "500ms", "5s", "10m", "1h30m" or "1d", the
 * notation Nomad and Kubernetes users already write. Numbers are refused on purpose: a bare
 * 30 is ambiguous between seconds and milliseconds.
 */
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;

export const DURATION_HINT = "use a number with a unit, e.g. '500ms', '5s', '10m', '1h30m'";

/** Milliseconds for a duration string, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let match = PART.exec(trimmed); match; match = PART.exec(trimmed)) {
    const [whole, amount, unit] = match;
    total += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
    consumed += whole.length;
  }
  return consumed === trimmed.length ? Math.round(total) : undefined;
}
