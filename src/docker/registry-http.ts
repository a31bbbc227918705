import { GlintError, TransientError } from '../errors/index.ts';
import { DockerErrorCode } from './error-codes.ts';

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connect timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
  UND_ERR_SOCKET: 'connection closed',
  EPROTO: 'TLS/protocol error',
};

function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? (err as { code?: string }).code;
  if (code && NETWORK_CODES[code]) return NETWORK_CODES[code];
  return cause?.message ?? (err instanceof Error ? err.message : String(err));
}

/**
 * fetch bounded by `timeoutMs` and the caller's signal. A caller's abort surfaces as its own
 * reason; the time bound becomes RegistryTimeout and a network failure RegistryUnreachable,
 * both transient.
 */
export async function fetchRegistry(
  host: string,
  url: string,
  init: RequestInit,
  opts: { timeoutMs: number; signal?: AbortSignal | undefined },
): Promise<Response> {
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout;
  try {
    return await fetch(url, { ...init, signal, redirect: 'follow' });
  } catch (err) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    if (timeout.aborted) {
      throw new TransientError(
        DockerErrorCode.RegistryTimeout,
        `registry ${host} did not answer within ${opts.timeoutMs}ms; check the registry's load and network, or raise the timeout`,
        { cause: err, details: { registry: host } },
      );
    }
    throw new TransientError(
      DockerErrorCode.RegistryUnreachable,
      `registry ${host} is unreachable (${networkReason(err)}); check that it runs and that the image's registry address is right`,
      { cause: err, details: { registry: host } },
    );
  }
}

type RegistryErrorBody = { errors?: Array<{ code?: string; message?: string }> };

/** Error codes from the distribution spec's error body, e.g. MANIFEST_UNKNOWN. */
export async function registryErrorCodes(res: Response): Promise<string[]> {
  try {
    const body = (await res.json()) as RegistryErrorBody;
    return (body.errors ?? []).map((e) => e.code ?? '').filter(Boolean);
  } catch {
    return [];
  }
}

/** Non-2xx answers other than 401/404 (which callers handle with context). */
export async function unexpectedStatus(host: string, res: Response, what: string): Promise<GlintError> {
  await res.body?.cancel();
  const details = { registry: host, status: res.status };
  if (res.status === 429 || res.status >= 500) {
    return new TransientError(
      DockerErrorCode.RegistryUnreachable,
      `registry ${host} answered ${res.status} to ${what}; it may be overloaded or restarting, glint retries`,
      { details },
    );
  }
  if (res.status === 403) {
    return new GlintError(
      DockerErrorCode.RegistryAuthFailed,
      `registry ${host} denied ${what} (403); the configured account lacks pull access to this repository`,
      { details },
    );
  }
  return new GlintError(
    DockerErrorCode.RegistryProtocol,
    `registry ${host} answered ${res.status} to ${what}`,
    {
      details,
    },
  );
}

/** Loopback registries speak plain HTTP (Docker's default insecure range); the rest HTTPS. */
export function registryBaseUrl(host: string, plainHttpHosts: readonly string[]): string {
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
  const plain =
    plainHttpHosts.includes(host) || name === 'localhost' || name.startsWith('127.') || name === '[::1]';
  const apiHost = host === 'docker.io' ? 'registry-1.docker.io' : host;
  return `${plain ? 'http' : 'https'}://${apiHost}`;
}
