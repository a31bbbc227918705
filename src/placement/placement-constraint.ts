/**
 * The constraint grammar an app's `placement.constraints` are written in: `key=value` (the
 * engine's label `key` is `value`) or `key!=value` (it is not, or the engine has no such
 * label). `name` is a pseudo-label: the endpoint's own name, so `name=node-a` pins an app.
 * Shared by the config check (syntax, satisfiable) and placement (which engine fits).
 */
export type PlacementConstraint = { key: string; op: '=' | '!='; value: string };

/** The pseudo-label every engine has: its endpoint name. */
export const NAME_LABEL = 'name';

export const CONSTRAINT_SYNTAX = "'key=value' or 'key!=value', e.g. 'zone=eu-1' or 'disk!=hdd'";

const CONSTRAINT = /^([A-Za-z0-9](?:[A-Za-z0-9._/-]*[A-Za-z0-9])?)(!=|=)([^\s=]\S*)$/;

/** The parsed constraint, or undefined when the text is not in the grammar. */
export function parseConstraint(text: string): PlacementConstraint | undefined {
  const m = CONSTRAINT.exec(text);
  if (!m) return undefined;
  return { key: m[1]!, op: m[2] as '=' | '!=', value: m[3]! };
}

/** The labels a constraint is checked against: the declared ones plus the endpoint's name. */
export type LabelledEngine = { name: string; labels: Readonly<Record<string, string>> };

function labelOf(engine: LabelledEngine, key: string): string | undefined {
  if (key === NAME_LABEL) return engine.name;
  return Object.hasOwn(engine.labels, key) ? engine.labels[key] : undefined;
}

/**
 * Why the engine does not meet the constraint, in words that name the label
 * ("has no label zone=a", "has zone=b, not zone=a"); undefined when it does.
 */
export function constraintMismatch(engine: LabelledEngine, c: PlacementConstraint): string | undefined {
  const actual = labelOf(engine, c.key);
  if (c.op === '=') {
    if (actual === c.value) return undefined;
    return actual === undefined
      ? `has no label ${c.key}=${c.value}`
      : `has ${c.key}=${actual}, not ${c.key}=${c.value}`;
  }
  return actual === c.value ? `has ${c.key}=${c.value} (the app needs ${c.key}!=${c.value})` : undefined;
}
