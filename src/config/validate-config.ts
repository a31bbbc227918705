import { configSchema, type GlintConfig } from './config-schema.ts';
import { type ConfigIssue, formatIssues } from './format-issues.ts';
import { knownKeysAt } from './known-keys.ts';

export type ValidationResult = { ok: true; config: GlintConfig } | { ok: false; issues: ConfigIssue[] };

/** Validates a declaration and applies defaults. Pure: reads no env, files or clock. */
export function validateConfig(input: unknown): ValidationResult {
  const result = configSchema.safeParse(input);
  if (result.success) return { ok: true, config: result.data };
  return { ok: false, issues: formatIssues(result.error.issues, (path) => knownKeysAt(configSchema, path)) };
}
