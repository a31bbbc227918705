import { execFile } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from './config-error.ts';
import type { GlintConfig } from './config-schema.ts';
import { validateConfig } from './validate-config.ts';

export const DEFAULT_CONFIG_FILE = 'scheduler.config.ts';

/** What the loading process prints: the default export as data, or why there is none. */
type Loaded = { ok: true; value?: unknown } | { ok: false; message: string };

/**
 * Runs in a short-lived node process with tsx's loader: imports the declaration and prints its
 * default export as JSON. A declaration is data; a function or symbol in it is named by path.
 */
const PRINT_DEFAULT_EXPORT = `
const { pathToFileURL } = await import('node:url');
const say = (loaded) => process.stdout.write(JSON.stringify(loaded));
const toData = (value, path) => {
  if (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint')
    throw new Error(path + ' is a ' + typeof value + '; a declaration holds only data');
  if (Array.isArray(value)) return value.map((v, i) => toData(v, path + '[' + i + ']'));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toData(v, path ? path + '.' + k : k)]));
  return value;
};
try {
  const mod = await import(pathToFileURL(process.argv[1]).href);
  // A file loaded as CommonJS arrives wrapped once more, marked by esbuild's __esModule flag.
  const value = mod.default?.__esModule ? mod.default.default : mod.default;
  say(value === undefined ? { ok: true } : { ok: true, value: toData(value, '') });
} catch (err) {
  // esbuild's first line only counts the errors ("Transform failed with 1 error:"); the next says where.
  const lines = String(err instanceof Error ? err.message : err).split('\\n');
  say({ ok: false, message: lines[0].endsWith(':') && lines[1] ? lines[0] + ' ' + lines[1] : lines[0] });
}
`;

/**
 * Imports a declaration in a separate node process and returns its default export as data. The
 * daemon lives for months: tsx's loader thread and esbuild cost it about 35 MB of resident
 * memory for a file read once at start and on SIGHUP, so they live in the short process instead.
 * The child has tsx's ESM loader, so a `.ts` file in a folder without a package.json (and so
 * without "type": "module") still loads.
 */
async function importDefault(path: string): Promise<unknown> {
  if (path.endsWith('.json')) return JSON.parse(await readFile(path, 'utf8'));
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm')).href;
  const stdout = await new Promise<string>((done, fail) => {
    execFile(
      process.execPath,
      ['--import', tsx, '--input-type=module', '-e', PRINT_DEFAULT_EXPORT, '--', path],
      { maxBuffer: 16 * 1024 * 1024, timeout: 60_000 },
      (err, out, errOut) => {
        if (out.length > 0 || !err) done(out);
        else fail(new Error(errOut.trim().split('\n')[0] || err.message));
      },
    );
  });
  const loaded = JSON.parse(stdout) as Loaded;
  if (!loaded.ok) throw new Error(loaded.message);
  return loaded.value;
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
