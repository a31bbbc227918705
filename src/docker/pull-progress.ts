import { GlintError, TransientError } from '../errors/index.ts';
import { DockerErrorCode } from './error-codes.ts';

/** One line of the engine's pull stream. */
export type PullEvent = {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
};

export type PullSummary = { layers: number; done: number; currentBytes: number; totalBytes: number };

const DONE = /^(Pull complete|Already exists|Download complete)$/;

/** Folds pull events into per-layer progress, so a log line can say "3/7 layers, 40/106 MB". */
export class PullProgress {
  readonly #layers = new Map<string, { done: boolean; current: number; total: number }>();

  update(event: PullEvent): void {
    const { id, status } = event;
    if (!id || !status || status.startsWith('Pulling from')) return;
    const layer = this.#layers.get(id) ?? { done: false, current: 0, total: 0 };
    if (DONE.test(status)) {
      // "Download complete" still has extraction ahead; only the other two finish a layer.
      if (status !== 'Download complete') layer.done = true;
      layer.current = layer.total;
    } else if (status === 'Downloading' && event.progressDetail) {
      layer.current = event.progressDetail.current ?? layer.current;
      layer.total = event.progressDetail.total ?? layer.total;
    }
    this.#layers.set(id, layer);
  }

  summary(): PullSummary {
    let done = 0;
    let currentBytes = 0;
    let totalBytes = 0;
    for (const layer of this.#layers.values()) {
      if (layer.done) done++;
      currentBytes += layer.current;
      totalBytes += layer.total;
    }
    return { layers: this.#layers.size, done, currentBytes, totalBytes };
  }
}

/** Log no more than once per `intervalMs`; `now` is passed in so the rule is testable. */
export class RateGate {
  #last = Number.NEGATIVE_INFINITY;
  constructor(readonly intervalMs: number) {}

  open(now: number): boolean {
    if (now - this.#last < this.intervalMs) return false;
    this.#last = now;
    return true;
  }
}

const AUTH = /unauthorized|authentication required|no basic auth credentials|denied/i;
const NOT_FOUND =
  /manifest unknown|not found|does not exist|manifest for .* not found|repository .* not found/i;

/**
 * Classifies an in-band pull error (or an engine error message): missing images and refused
 * credentials are permanent, everything else (connection refused, EOF, 5xx, i/o timeout) may pass.
 */
export function classifyPullError(ref: string, host: string, message: string): GlintError {
  const details = { image: ref, registry: host };
  if (AUTH.test(message)) {
    return new GlintError(
      DockerErrorCode.RegistryAuthFailed,
      `pulling ${ref} was refused by ${host} (${message}); check the registry credentials configured for ${host}`,
      { details },
    );
  }
  if (NOT_FOUND.test(message)) {
    return new GlintError(
      DockerErrorCode.PullFailed,
      `pulling ${ref} failed: the registry ${host} does not have it (${message}); the image may have been deleted, redeploy with a version that exists`,
      { details },
    );
  }
  return new TransientError(DockerErrorCode.PullInterrupted, `pulling ${ref} was interrupted: ${message}`, {
    details,
  });
}
