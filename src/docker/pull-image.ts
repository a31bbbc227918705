import type { Readable } from 'node:stream';
import {
  ExponentialBackoff,
  handleWhen,
  retry,
  TaskCancelledError,
  TimeoutStrategy,
  timeout,
  wrap,
} from 'cockatiel';
import { GlintError, isTransient } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import { silentLogger } from '../log/index.ts';
import type { DockerEngine } from './engine.ts';
import { dockerodeOf } from './engine.ts';
import { engineMessage, isNotFound, translateEngineError } from './engine-errors.ts';
import { DockerErrorCode } from './error-codes.ts';
import { parseImageReference } from './image-reference.ts';
import { JsonLineSplitter } from './json-lines.ts';
import { classifyPullError, type PullEvent, PullProgress, RateGate } from './pull-progress.ts';
import type { RegistryCredentials } from './registry-auth.ts';

export type PullOptions = {
  credentials?: RegistryCredentials;
  logger?: Logger;
  /** Bound on the whole pull including retries (default 10 min). */
  timeoutMs?: number;
  /** Attempts for transient failures (default 4), with exponential backoff between them. */
  attempts?: number;
  /** First backoff delay (default 500 ms, doubling up to 15 s). */
  initialDelayMs?: number;
  /** At most one progress line per this interval (default 5 s). */
  progressIntervalMs?: number;
  signal?: AbortSignal;
};

export type PullResult = { ref: string; pulled: boolean; attempts: number; durationMs: number };

/** Whether the engine already holds the image (a `repo@sha256:` ref matches its RepoDigests). */
export async function isImagePresent(
  engine: DockerEngine,
  ref: string,
  signal?: AbortSignal,
): Promise<boolean> {
  try {
    await dockerodeOf(engine)
      .getImage(ref)
      .inspect({ abortSignal: signal } as object);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw translateEngineError(err, `inspecting image ${ref}`);
  }
}

/**
 * Pulls a pinned image unless the engine has it. Every progress event is checked for an in-band
 * error (the engine reports failures inside a 200 stream); transient failures are retried with
 * backoff, and the whole thing is bounded in time.
 */
export async function pullImage(
  engine: DockerEngine,
  ref: string,
  opts: PullOptions = {},
): Promise<PullResult> {
  const started = Date.now();
  if (await isImagePresent(engine, ref, opts.signal)) {
    return { ref, pulled: false, attempts: 0, durationMs: Date.now() - started };
  }
  const timeoutMs = opts.timeoutMs ?? 600_000;
  const retryPolicy = retry(handleWhen(isTransient), {
    maxAttempts: Math.max(0, (opts.attempts ?? 4) - 1),
    backoff: new ExponentialBackoff({ initialDelay: opts.initialDelayMs ?? 500, maxDelay: 15_000 }),
  });
  const logger = opts.logger ?? silentLogger();
  retryPolicy.onRetry((e) => {
    const reason = 'error' in e ? (e.error as Error).message : 'unknown';
    logger.warn({ image: ref, delayMs: e.delay, attempt: e.attempt }, `pull failed, retrying: ${reason}`);
  });
  const policy = wrap(timeout(timeoutMs, TimeoutStrategy.Aggressive), retryPolicy);
  let attempts = 0;
  try {
    await policy.execute(({ signal }) => {
      attempts++;
      return pullOnce(engine, ref, { ...opts, logger }, signal);
    }, opts.signal);
  } catch (err) {
    if (err instanceof TaskCancelledError && !opts.signal?.aborted) {
      throw new GlintError(
        DockerErrorCode.PullTimeout,
        `pulling ${ref} did not finish within ${timeoutMs}ms (${attempts} attempt(s)); check the registry's bandwidth or raise the pull timeout`,
        { cause: err, details: { image: ref } },
      );
    }
    if (opts.signal?.aborted) throw opts.signal.reason;
    throw err;
  }
  const durationMs = Date.now() - started;
  logger.info({ image: ref, durationMs, attempts }, 'image pulled');
  return { ref, pulled: true, attempts, durationMs };
}

function authconfigFor(host: string, credentials: RegistryCredentials | undefined) {
  const credential = credentials?.[host];
  // Docker 20.10 wants an X-Registry-Auth header even for open registries: an empty object will do.
  return credential
    ? { username: credential.username, password: credential.password, serveraddress: host }
    : {};
}

async function pullOnce(
  engine: DockerEngine,
  ref: string,
  opts: PullOptions & { logger: Logger },
  signal: AbortSignal,
): Promise<void> {
  const host = parseImageReference(ref).registry;
  let stream: Readable;
  try {
    stream = (await dockerodeOf(engine).pull(ref, {
      authconfig: authconfigFor(host, opts.credentials),
      abortSignal: signal,
    })) as Readable;
  } catch (err) {
    if (signal.aborted) throw signal.reason ?? err;
    const translated = translateEngineError(err, `pulling ${ref}`);
    if (isTransient(translated)) throw translated;
    throw classifyPullError(ref, host, engineMessage(err));
  }
  await consumePullStream(stream, ref, host, opts, signal);
}

async function consumePullStream(
  stream: Readable,
  ref: string,
  host: string,
  opts: PullOptions & { logger: Logger },
  signal: AbortSignal,
): Promise<void> {
  const splitter = new JsonLineSplitter();
  const progress = new PullProgress();
  const gate = new RateGate(opts.progressIntervalMs ?? 5_000);
  gate.open(Date.now());
  const onAbort = () => stream.destroy(signal.reason as Error);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const handle = (events: unknown[]) => {
      for (const raw of events) {
        const event = raw as PullEvent;
        if (event.error || event.errorDetail) {
          throw classifyPullError(ref, host, event.errorDetail?.message ?? event.error ?? 'unknown error');
        }
        progress.update(event);
      }
      if (gate.open(Date.now())) {
        const s = progress.summary();
        opts.logger.info(
          { image: ref, layers: s.layers, done: s.done, mb: mb(s.currentBytes), totalMb: mb(s.totalBytes) },
          `pulling ${ref}: ${s.done}/${s.layers} layers, ${mb(s.currentBytes)}/${mb(s.totalBytes)} MB`,
        );
      }
    };
    for await (const chunk of stream) handle(splitter.push(chunk as Buffer));
    handle(splitter.end());
  } catch (err) {
    if (err instanceof GlintError) throw err;
    if (signal.aborted) throw signal.reason ?? err;
    throw classifyPullError(ref, host, `stream broke: ${(err as Error).message}`);
  } finally {
    signal.removeEventListener('abort', onAbort);
    stream.destroy();
  }
}

function mb(bytes: number): number {
  return Math.round(bytes / 1e5) / 10;
}
