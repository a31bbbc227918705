import type { GlintConfigInput } from './config-schema.ts';

/**
 * Types a declaration file. It validates nothing itself: the loader validates the exported
 * value with the schema before anything starts, so that errors name their field.
 */
export function defineConfig(config: GlintConfigInput): GlintConfigInput {
  return config;
}
