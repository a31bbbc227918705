import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { ConfigError } from './config-error.ts';
import type { GlintConfig } from './config-schema.ts';
import { validateConfig } from './validate-config.ts';

export const DEFAULT_CONFIG_FILE = 'scheduler.config.ts';

/**
 * TypeScript declarations go through tsx's own loader, so a file in a folder without a
 * package.json (and so without "type": "module") still loads as ESM.
 */
async function importDefault(path: string): Promise<unknown> {
  if (path.endsWith('.json')) {
    return ((await import(pathToFileURL(path).href, { with: { type: 'json' } })) as { default: unknown })
      .default;
  }
  const mod = (await (/\.[cm]?ts$/.test(path)
    ? tsImport(pathToFileURL(path).href, import.meta.url)
    : import(pathToFileURL(path).href))) as {
    default?: unknown;
  };
  const value = mod.default as { __esModule?: boolean; default?: unknown } | undefined;
  // A file loaded as CommonJS arrives wrapped once more, marked by esbuild's __esModule flag.
  return value?.__esModule ? value.default : value;
}

/**
 * Imports a declaration (.ts through tsx, .js/.mjs, or .json) and validates its default export.
 * Every problem is reported at once, each with its field path.
 */
export async function loadConfig(file = DEFAULT_CONFIG_FILE): Promise<GlintConfig> {
  const path = resolve(file);
  try {
    await access(path);
  } catch {
    throw new ConfigError(file, [
      { path: '(file)', message: `cannot read ${file}; pass the path of a scheduler.config.ts` },
    ]);
  }
  let exported: unknown;
  try {
    exported = await importDefault(path);
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new ConfigError(file, [{ path: '(file)', message: `the file could not be loaded: ${why}` }]);
  }
  if (exported === undefined) {
    throw new ConfigError(file, [
      {
        path: '(file)',
        message: 'the file has no default export; end it with `export default defineConfig({ ... })`',
      },
    ]);
  }
  const result = validateConfig(exported);
  if (!result.ok) throw new ConfigError(file, result.issues);
  return result.config;
}
