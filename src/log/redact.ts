import { stdSerializers } from 'pino';

export const REDACTED = '[redacted]';

/**
 * Keys whose whole value is a secret, at any depth: passwords, tokens, credentials, auth
 * headers and configs. Matched on the key with `_`/`-` removed and lower-cased, so
 * `DB_PASSWORD`, `registryAuth`, `X-Registry-Auth` and `authconfig` all match.
 */
const SECRET_KEY =
  /(passw(or)?d|passphrase|secret|token|credential|authorization|auth$|authconfig|apikey|privatekey|cookie)/;

/** Keys holding an environment (app spec `env`, Docker's `Env`): names are kept, values are not. */
const ENV_KEY = /^(env|environment)$/i;

/** Secrets written into free text: `password=x`, `token: x`, `Bearer x`, `https://user:x@host`. */
const SECRET_ASSIGNMENT =
  /\b([\w.-]*(?:passw(?:or)?d|passphrase|secret|token|api[_-]?key|credential|authorization)[\w.-]*)(["']?\s*[=:]\s*(?:(?:Bearer|Basic)\s+)?)("[^"]*"|'[^']*'|[^\s,;&"'}]+)/gi;
const AUTH_SCHEME = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;
const URL_USERINFO = /(\/\/[^/\s:@]+):[^/\s@]+@/g;

/** Deeper than this a log object is cut, rather than risk a secret in an unchecked corner. */
const MAX_DEPTH = 12;

function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key.replace(/[-_]/g, '').toLowerCase());
}

/** Replaces secrets written in text, keeping the words around them. */
export function scrubText(text: string): string {
  return text
    .replace(SECRET_ASSIGNMENT, (_m, key: string, sep: string) => `${key}${sep}${REDACTED}`)
    .replace(AUTH_SCHEME, (_m, scheme: string) => `${scheme} ${REDACTED}`)
    .replace(URL_USERINFO, (_m, user: string) => `${user}:${REDACTED}@`);
}

/**
 * A copy of a log object with every secret replaced, found by structure rather than by fixed
 * paths: values under secret-named keys at any depth, the values (not the names) of any `env`,
 * secrets written into strings (messages, error messages and stacks), inside arrays, errors
 * and their causes. Pure; the input is not changed.
 */
export function redactSecrets(value: unknown): unknown {
  return walk(value, 0, false, new WeakSet());
}

function walk(value: unknown, depth: number, inEnv: boolean, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return inEnv ? REDACTED : scrubText(value);
  if (typeof value === 'number' || typeof value === 'bigint') return inEnv ? REDACTED : value;
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[too deep]';
  seen.add(value);
  try {
    if (value instanceof Error) return walk(stdSerializers.err(value), depth, inEnv, seen);
    const json = (value as { toJSON?: unknown }).toJSON;
    if (typeof json === 'function') return walk(json.call(value), depth, inEnv, seen);
    if (Array.isArray(value)) return value.map((item) => walkItem(item, depth, inEnv, seen));
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (isSecretKey(key)) out[key] = REDACTED;
      else out[key] = walk(item, depth + 1, inEnv || ENV_KEY.test(key), seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

/** In an env list (`['NAME=value']`) the name stays, the value goes; a bare name is kept. */
function walkItem(item: unknown, depth: number, inEnv: boolean, seen: WeakSet<object>): unknown {
  if (inEnv && typeof item === 'string') {
    const eq = item.indexOf('=');
    return eq === -1 ? item : `${item.slice(0, eq)}=${REDACTED}`;
  }
  return walk(item, depth + 1, inEnv, seen);
}
