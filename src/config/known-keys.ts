import type { z } from 'zod';

type AnySchema = z.core.$ZodType;
type Def = {
  type: string;
  innerType?: AnySchema;
  in?: AnySchema;
  shape?: Record<string, AnySchema>;
  valueType?: AnySchema;
  element?: AnySchema;
  options?: AnySchema[];
};

const defOf = (schema: AnySchema): Def => schema._zod.def as unknown as Def;

function unwrap(schema: AnySchema): AnySchema {
  let current = schema;
  for (;;) {
    const def = defOf(current);
    if (def.innerType) current = def.innerType;
    else if (def.type === 'pipe' && def.in) current = def.in;
    else return current;
  }
}

function childrenOf(schema: AnySchema, segment: string): AnySchema[] {
  const def = defOf(unwrap(schema));
  if (def.type === 'object' && def.shape?.[segment]) return [def.shape[segment]];
  if (def.type === 'record' && def.valueType) return [def.valueType];
  if (def.type === 'array' && def.element) return [def.element];
  if (def.type === 'union' && def.options) return def.options.flatMap((o) => childrenOf(o, segment));
  return [];
}

function keysOf(schema: AnySchema): string[] {
  const def = defOf(unwrap(schema));
  if (def.type === 'object' && def.shape) return Object.keys(def.shape);
  if (def.type === 'union' && def.options) return [...new Set(def.options.flatMap(keysOf))];
  return [];
}

/** The keys a schema accepts at a dotted path ("apps.web.strategy"), for "did you mean" hints. */
export function knownKeysAt(root: AnySchema, path: string): string[] {
  const segments = path === '' ? [] : path.replace(/\[\d+\]/g, '.0').split('.');
  let level: AnySchema[] = [root];
  for (const segment of segments) level = level.flatMap((s) => childrenOf(s, segment));
  return [...new Set(level.flatMap(keysOf))];
}
