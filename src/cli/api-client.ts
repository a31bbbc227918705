import { ExitCode } from './exit-codes.ts';

/** What the API answered with an error, or why it could not be asked. */
export class ApiCallError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly status?: number,
    readonly code?: string,
  ) {
    super(message);
  }
}

export type ApiClientOptions = { url: string; token?: string | undefined; timeoutMs?: number };

/** The daemon's REST API over fetch: JSON in and out, errors as `ApiCallError`. */
export class ApiClient {
  readonly #url: string;
  readonly #token: string | undefined;
  readonly #timeoutMs: number;

  constructor(opts: ApiClientOptions) {
    this.#url = opts.url.replace(/\/+$/, '');
    this.#token = opts.token || undefined;
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
  }

  get url(): string {
    return this.#url;
  }

  async call<T>(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    opts: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
  ): Promise<T> {
    const res = await this.#fetch(path, {
      method,
      headers: {
        accept: 'application/json',
        ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...opts.headers,
      },
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
      signal: AbortSignal.timeout(opts.timeoutMs ?? this.#timeoutMs),
    });
    const text = await res.text();
    const json = parseJson(text);
    if (res.ok) return json as T;
    throw answerError(method, path, res.status, json, text);
  }

  /** An open Server-Sent Events response, for `events`. */
  async stream(path: string, opts: { lastEventId?: string; signal?: AbortSignal } = {}): Promise<Response> {
    const res = await this.#fetch(path, {
      headers: {
        accept: 'text/event-stream',
        ...(opts.lastEventId ? { 'last-event-id': opts.lastEventId } : {}),
      },
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    if (res.ok && res.body) return res;
    const text = await res.text();
    throw answerError('GET', path, res.status, parseJson(text), text);
  }

  async #fetch(path: string, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.#token) headers.set('authorization', `Bearer ${this.#token}`);
    try {
      return await fetch(`${this.#url}${path}`, { ...init, headers });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      const why =
        (err as Error).name === 'TimeoutError'
          ? 'did not answer in time'
          : `could not be reached (${cause ?? (err as Error).message})`;
      throw new ApiCallError(
        `glint at ${this.#url} ${why}; check GLINT_URL and that the daemon runs`,
        ExitCode.Unreachable,
      );
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return text === '' ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

function answerError(method: string, path: string, status: number, json: unknown, text: string) {
  const error = (json as { error?: { code?: string; message?: string; details?: Record<string, unknown> } })
    ?.error;
  const message = error?.message ?? (text.slice(0, 200) || `HTTP ${status}`);
  const leader = error?.details?.leader;
  const hint =
    status === 401
      ? '; set GLINT_TOKEN to a valid token'
      : error?.code === 'NotLeader' && typeof leader === 'string'
        ? `; the leader is ${leader}`
        : '';
  return new ApiCallError(
    `${method} ${path}: ${status} ${error?.code ?? ''} ${message}${hint}`.replace(/\s+/g, ' ').trim(),
    status >= 400 && status < 500 ? ExitCode.Refused : ExitCode.Unreachable,
    status,
    error?.code,
  );
}
