import type { z } from 'zod';

export type ConfigIssue = { path: string; message: string };

/** "apps.web.strategy.maxSurge"; array indexes as [0]. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => {
    if (typeof key === 'number') return `${acc}[${key}]`;
    return acc ? `${acc}.${String(key)}` : String(key);
  }, '');
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates) {
    const distance = editDistance(word.toLowerCase(), name.toLowerCase());
    if (distance <= Math.max(2, Math.floor(name.length / 3)) && (!best || distance < best.distance)) {
      best = { name, distance };
    }
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * One issue per problem, each naming the full field path. Unknown keys are reported at their
 * own path, with the nearest known key as a suggestion, since a typo is the usual cause.
 */
export function formatIssues(
  issues: readonly z.core.$ZodIssue[],
  knownKeysAt: (path: string) => string[],
): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const parent = formatPath(issue.path);
      const known = knownKeysAt(parent);
      for (const key of issue.keys) {
        const guess = closest(key, known);
        const hint = guess ? `did you mean '${guess}'?` : `known keys here: ${known.join(', ')}`;
        out.push({ path: formatPath([...issue.path, key]), message: `unknown key '${key}'; ${hint}` });
      }
      continue;
    }
    // A record key that fails its pattern reports a generic message; the pattern's own is the useful one.
    const message =
      issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
    out.push({ path: formatPath(issue.path) || '(root)', message });
  }
  return out;
}
