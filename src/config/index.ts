export { type AdminToken, resolveAdminToken } from './admin-token.ts';
export type {
  AppConfig,
  AppConfigInput,
  HealthConfig,
  PlacementConfig,
  StrategyConfig,
} from './app-schema.ts';
export { ConfigError } from './config-error.ts';
export type { GlintConfig, GlintConfigInput } from './config-schema.ts';
export { defineConfig } from './define-config.ts';
export type { DockerEndpoint } from './docker-schema.ts';
export { parseDuration } from './duration.ts';
export { type EngineAccess, readEngineAccess } from './engine-access.ts';
export { ConfigErrorCode } from './error-codes.ts';
export { budget, duration, type SecretSource } from './field-types.ts';
export type { ConfigIssue } from './format-issues.ts';
export { DEFAULT_CONFIG_FILE, loadConfig } from './load-config.ts';
export { readSecret } from './read-secret.ts';
export { type RegistryAccess, readRegistryAccess } from './registry-credentials.ts';
export {
  findServiceReferences,
  readsInstances,
  SERVICE_HOST,
  SERVICE_REFERENCE_FORMS,
  type ServiceFrontends,
  type ServiceReference,
  ServiceReferenceForm,
  serviceFrontendsOf,
  stableReferenceProblem,
  stableServiceAddress,
} from './service-reference.ts';
export { validateConfig } from './validate-config.ts';
