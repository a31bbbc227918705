import { createHash, timingSafeEqual } from 'node:crypto';

/** What a token may do: `read` sees, `deploy` also changes apps and deployments, `admin` all. */
export const Role = { Read: 'read', Deploy: 'deploy', Admin: 'admin' } as const;
export type Role = (typeof Role)[keyof typeof Role];

const RANK: Record<Role, number> = { read: 0, deploy: 1, admin: 2 };

export function roleAllows(have: Role, need: Role): boolean {
  return RANK[have] >= RANK[need];
}

export type ApiToken = { name: string; role: Role; token: string };
/** Who a request came from: the token's name and role, never its value. */
export type Caller = { name: string; role: Role };

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

/** The token of an `Authorization: Bearer <token>` header; undefined for anything else. */
export function bearerTokenOf(header: string | undefined): string | undefined {
  return header ? BEARER.exec(header)?.[1] : undefined;
}

const digestOf = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * The API's tokens, kept as SHA-256 digests. A presented token is compared with every entry in
 * constant time over equal-length digests, so neither its length nor which entry it resembles
 * shows in the answer's timing.
 */
export class TokenTable {
  readonly #entries: ReadonlyArray<Caller & { digest: Buffer }>;

  constructor(tokens: readonly ApiToken[]) {
    this.#entries = tokens
      .filter((t) => t.token.length > 0)
      .map((t) => ({ name: t.name, role: t.role, digest: digestOf(t.token) }));
  }

  identify(presented: string): Caller | undefined {
    const digest = digestOf(presented);
    let found: Caller | undefined;
    for (const entry of this.#entries) {
      if (timingSafeEqual(digest, entry.digest) && !found) found = { name: entry.name, role: entry.role };
    }
    return found;
  }
}
