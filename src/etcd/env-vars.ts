import { GlintError } from '../errors/index.ts';

export const EnvErrorCode = {
  InvalidVariableName: 'InvalidVariableName',
  ValueTooLarge: 'EnvValueTooLarge',
  DuplicateVariable: 'DuplicateVariable',
  InvalidServiceReference: 'InvalidServiceReference',
  ServiceReferenceUnresolved: 'ServiceReferenceUnresolved',
  /** `{{service:x}}` where x is not a declared app or has no `routing.frontendPort`. */
  ServiceFrontendUnknown: 'ServiceFrontendUnknown',
} as const;

/** 32 KiB: far above any sane setting, well below what makes `docker create` slow or fail. */
export const MAX_ENV_VALUE_BYTES = 32 * 1024;

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isValidVariableName(name: string): boolean {
  return VARIABLE_NAME.test(name);
}

/** One source entry: where it came from (an etcd key or `static:NAME`), its name and value. */
export type EnvEntry = { source: string; name: string; value: string };

/** Checks one entry; errors name the key, never the value (it may be a secret). */
export function validateEnvEntry(entry: EnvEntry, maxValueBytes = MAX_ENV_VALUE_BYTES): void {
  if (!isValidVariableName(entry.name)) {
    throw new GlintError(
      EnvErrorCode.InvalidVariableName,
      `${entry.source}: "${entry.name}" is not a valid environment variable name; use letters, digits and '_' and don't start with a digit`,
      { details: { key: entry.source, name: entry.name } },
    );
  }
  const size = Buffer.byteLength(entry.value);
  if (size > maxValueBytes) {
    throw new GlintError(
      EnvErrorCode.ValueTooLarge,
      `${entry.source}: value is ${size} bytes, over the ${maxValueBytes}-byte limit; store large data elsewhere and reference it`,
      { details: { key: entry.source, bytes: size, limit: maxValueBytes } },
    );
  }
}

/** Turns one layer's entries into a map, refusing two keys that name the same variable. */
export function layerToMap(entries: EnvEntry[], maxValueBytes = MAX_ENV_VALUE_BYTES): Map<string, EnvEntry> {
  const out = new Map<string, EnvEntry>();
  for (const entry of entries) {
    validateEnvEntry(entry, maxValueBytes);
    const earlier = out.get(entry.name);
    if (earlier) {
      throw new GlintError(
        EnvErrorCode.DuplicateVariable,
        `${entry.source} and ${earlier.source} both set ${entry.name}; delete one of them`,
        { details: { keys: [earlier.source, entry.source], name: entry.name } },
      );
    }
    out.set(entry.name, entry);
  }
  return out;
}

/** Later layers win. Returns the winning entry per variable, sorted by name. */
export function mergeEnvLayers(...layers: EnvEntry[][]): Map<string, EnvEntry> {
  const merged = new Map<string, EnvEntry>();
  for (const layer of layers) {
    for (const [name, entry] of layerToMap(layer)) merged.set(name, entry);
  }
  return new Map([...merged.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
