import { execFile } from 'node:child_process';
import { GlintError, TransientError } from '../errors/index.ts';
import { LbErrorCode } from './error-codes.ts';

export type ValidationResult = { valid: boolean; output: string };

/** Runs `haproxy -c -f <file>` somewhere that sees the file at the same path. */
export type ConfigValidator = {
  readonly description: string;
  validate(configPath: string): Promise<ValidationResult>;
};

/**
 * Runs a command in a container on the engine the daemon uses (the Docker room's
 * `DockerRuntime.exec`), ending it when `signal` aborts.
 */
export type ContainerExec = (
  container: string,
  command: string[],
  signal: AbortSignal,
) => Promise<{ exitCode: number; output: string }>;

const VALIDATE_TIMEOUT_MS = 15_000;

/** A `haproxy` binary on this host. `-q` is not passed: it hides the reason. */
export class LocalBinaryValidator implements ConfigValidator {
  readonly description: string;
  constructor(private readonly binary = 'haproxy') {
    this.description = `local ${binary} -c`;
  }

  validate(configPath: string): Promise<ValidationResult> {
    return new Promise((resolve, reject) => {
      execFile(
        this.binary,
        ['-c', '-f', configPath],
        { timeout: VALIDATE_TIMEOUT_MS },
        (err, stdout, stderr) => {
          const output = `${stdout}${stderr}`;
          if (!err) return resolve({ valid: true, output });
          if (typeof err.code === 'number') return resolve({ valid: false, output });
          reject(
            new GlintError(
              LbErrorCode.ValidatorUnavailable,
              `could not run ${this.binary} -c: ${err.message}`,
              {
                cause: err,
              },
            ),
          );
        },
      );
    });
  }
}

/**
 * `haproxy -c` inside the running HAProxy container, for hosts without the binary. Every
 * membership change validates, one after another, so a hung exec is cut at `timeoutMs`
 * rather than holding up every app behind it.
 */
export class DockerExecValidator implements ConfigValidator {
  readonly description: string;
  constructor(
    private readonly container: string,
    private readonly exec: ContainerExec,
    private readonly timeoutMs = VALIDATE_TIMEOUT_MS,
  ) {
    this.description = `docker exec ${container} haproxy -c`;
  }

  async validate(configPath: string): Promise<ValidationResult> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      // Raced against the deadline too: an exec that ignores its signal still cannot hang us.
      const { exitCode, output } = await Promise.race([
        this.exec(this.container, ['haproxy', '-c', '-f', configPath], signal),
        new Promise<never>((_, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
        ),
      ]);
      return { valid: exitCode === 0, output };
    } catch (err) {
      const reason = signal.aborted ? `it did not finish within ${this.timeoutMs}ms` : (err as Error).message;
      throw new TransientError(
        LbErrorCode.ValidatorUnavailable,
        `could not run haproxy -c in container ${this.container}: ${reason}; check that the HAProxy container is running`,
        { cause: err },
      );
    }
  }
}

/** Prefers a local `haproxy` binary; falls back to the HAProxy container when one is named. */
export async function pickConfigValidator(
  opts: { container?: string; exec?: ContainerExec; binary?: string } = {},
): Promise<ConfigValidator> {
  const binary = opts.binary ?? 'haproxy';
  const hasBinary = await new Promise<boolean>((resolve) =>
    execFile(binary, ['-v'], { timeout: 5_000 }, (err) => resolve(!err)),
  );
  if (hasBinary) return new LocalBinaryValidator(binary);
  if (opts.container && opts.exec) return new DockerExecValidator(opts.container, opts.exec);
  throw new GlintError(
    LbErrorCode.ValidatorUnavailable,
    opts.container
      ? `no way to validate HAProxy configuration: no haproxy on this host and no Docker engine to run it in container ${opts.container}`
      : 'no way to validate HAProxy configuration: install haproxy on this host or name the HAProxy container',
  );
}
