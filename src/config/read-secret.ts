import { readFile } from 'node:fs/promises';
import { GlintError } from '../errors/index.ts';
import { ConfigErrorCode } from './error-codes.ts';
import type { SecretSource } from './field-types.ts';

/**
 * Reads a secret from the environment or a file. The only place process.env is read for
 * secrets; errors name the source, never the value.
 */
export async function readSecret(
  source: SecretSource,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  if ('fromEnv' in source) {
    const value = env[source.fromEnv];
    if (!value) {
      throw new GlintError(
        ConfigErrorCode.SecretMissing,
        `environment variable ${source.fromEnv} is not set; export it before starting glint`,
      );
    }
    return value;
  }
  try {
    return (await readFile(source.fromFile, 'utf8')).trim();
  } catch {
    throw new GlintError(
      ConfigErrorCode.SecretMissing,
      `cannot read secret file ${source.fromFile}; check the path and its permissions`,
    );
  }
}
