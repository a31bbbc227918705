import { GlintError } from '../errors/index.ts';
import { DockerErrorCode } from './error-codes.ts';

/** Per registry host (`127.0.0.1:5000`, `ghcr.io`), the account glint pulls with. */
export type RegistryCredential = { username: string; password: string };
export type RegistryCredentials = Readonly<Record<string, RegistryCredential>>;

export type AuthChallenge = { scheme: string; params: Record<string, string> };

/** Parses `WWW-Authenticate: Bearer realm="...",service="...",scope="..."` (one challenge). */
export function parseAuthChallenge(header: string): AuthChallenge {
  const trimmed = header.trim();
  const space = trimmed.indexOf(' ');
  const scheme = (space < 0 ? trimmed : trimmed.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  const rest = space < 0 ? '' : trimmed.slice(space + 1);
  for (const match of rest.matchAll(/([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g)) {
    params[match[1]!.toLowerCase()] = match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : match[3]!;
  }
  return { scheme, params };
}

export function basicAuthorization(credential: RegistryCredential): string {
  return `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`;
}

export type TokenFetch = (url: string, headers: Record<string, string>) => Promise<Response>;

export function authFailed(
  host: string,
  credential: RegistryCredential | undefined,
  detail: string,
): GlintError {
  const who = credential
    ? `the credentials configured for ${host} (user '${credential.username}') were refused`
    : `${host} requires credentials and none are configured for it`;
  const todo = credential
    ? 'check the username and password for this registry'
    : `add credentials for ${host} to glint's registry credentials (env or file)`;
  return new GlintError(
    DockerErrorCode.RegistryAuthFailed,
    `registry auth failed: ${who} (${detail}); ${todo}`,
    {
      details: { registry: host },
    },
  );
}

/**
 * Answers a registry's 401 challenge with an Authorization header: Basic straight from the
 * configured credential, Bearer through the token endpoint named in the challenge. Tokens
 * are cached per host and scope until the registry refuses them. Secrets stay in here: they
 * never reach an error, a log line or a returned object.
 */
export class RegistryAuthenticator {
  readonly #credentials: RegistryCredentials;
  readonly #cache = new Map<string, string>();

  constructor(credentials: RegistryCredentials = {}) {
    this.#credentials = credentials;
  }

  cached(host: string, scope: string): string | undefined {
    return this.#cache.get(`${host} ${scope}`);
  }

  forget(host: string, scope: string): void {
    this.#cache.delete(`${host} ${scope}`);
  }

  /** The error for a registry that still answers 401 after glint authenticated. */
  refused(host: string): GlintError {
    const credential = this.#credentials[host];
    return authFailed(host, credential, credential ? 'registry answered 401' : 'registry wants credentials');
  }

  async answer(
    host: string,
    challengeHeader: string,
    scope: string,
    fetchToken: TokenFetch,
  ): Promise<string> {
    const credential = this.#credentials[host];
    const challenge = parseAuthChallenge(challengeHeader);
    let header: string;
    if (challenge.scheme === 'basic') {
      if (!credential) throw authFailed(host, undefined, 'basic auth challenge');
      header = basicAuthorization(credential);
    } else if (challenge.scheme === 'bearer') {
      header = `Bearer ${await this.#token(host, challenge, scope, credential, fetchToken)}`;
    } else {
      throw new GlintError(
        DockerErrorCode.RegistryProtocol,
        `registry ${host} asked for an unsupported auth scheme '${challenge.scheme}'; glint speaks Basic and Bearer`,
      );
    }
    this.#cache.set(`${host} ${scope}`, header);
    return header;
  }

  async #token(
    host: string,
    challenge: AuthChallenge,
    scope: string,
    credential: RegistryCredential | undefined,
    fetchToken: TokenFetch,
  ): Promise<string> {
    const realm = challenge.params.realm;
    if (!realm) {
      throw new GlintError(
        DockerErrorCode.RegistryProtocol,
        `registry ${host} sent a Bearer challenge without realm`,
      );
    }
    const url = new URL(realm);
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    url.searchParams.set('scope', challenge.params.scope ?? scope);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (credential) headers.authorization = basicAuthorization(credential);
    const res = await fetchToken(url.toString(), headers);
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw authFailed(host, credential, `token endpoint answered ${res.status}`);
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new GlintError(
        DockerErrorCode.RegistryProtocol,
        `token endpoint of registry ${host} answered ${res.status}; check the registry's auth service`,
      );
    }
    const body = (await res.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) {
      throw new GlintError(
        DockerErrorCode.RegistryProtocol,
        `token endpoint of registry ${host} returned no token`,
      );
    }
    return token;
  }
}
