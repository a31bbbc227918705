import { execFile } from 'node:child_process';
import { PassThrough } from 'node:stream';
import Docker from 'dockerode';
import { GlintError } from '../errors/index.ts';

export type ValidationResult = { valid: boolean; output: string };

/** Runs `haproxy -c -f <file>` somewhere that sees the file at the same path. */
export type ConfigValidator = {
  readonly description: string;
  validate(configPath: string): Promise<ValidationResult>;
};

/** A `haproxy` binary on this host. `-q` is not passed: it hides the reason. */
export class LocalBinaryValidator implements ConfigValidator {
  readonly description: string;
  constructor(private readonly binary = 'haproxy') {
    this.description = `local ${binary} -c`;
  }

  validate(configPath: string): Promise<ValidationResult> {
    return new Promise((resolve, reject) => {
      execFile(this.binary, ['-c', '-f', configPath], { timeout: 15_000 }, (err, stdout, stderr) => {
        const output = `${stdout}${stderr}`;
        if (!err) return resolve({ valid: true, output });
        if (typeof err.code === 'number') return resolve({ valid: false, output });
        reject(
          new GlintError('LbValidatorUnavailable', `could not run ${this.binary} -c: ${err.message}`, {
            cause: err,
          }),
        );
      });
    });
  }
}

/** `haproxy -c` inside the running HAProxy container, for hosts without the binary. */
export class DockerExecValidator implements ConfigValidator {
  readonly description: string;
  constructor(
    private readonly container: string,
    private readonly docker = new Docker(),
  ) {
    this.description = `docker exec ${container} haproxy -c`;
  }

  async validate(configPath: string): Promise<ValidationResult> {
    try {
      const exec = await this.docker.getContainer(this.container).exec({
        Cmd: ['haproxy', '-c', '-f', configPath],
        AttachStdout: true,
        AttachStderr: true,
      });
      const stream = await exec.start({ hijack: true, stdin: false });
      const chunks: Buffer[] = [];
      const sink = new PassThrough();
      sink.on('data', (c: Buffer) => chunks.push(c));
      this.docker.modem.demuxStream(stream, sink, sink);
      await new Promise<void>((resolve, reject) => {
        stream.on('end', resolve);
        stream.on('error', reject);
      });
      const { ExitCode } = await exec.inspect();
      return { valid: ExitCode === 0, output: Buffer.concat(chunks).toString('utf8') };
    } catch (err) {
      throw new GlintError(
        'LbValidatorUnavailable',
        `could not run haproxy -c in container ${this.container}: ${(err as Error).message}; check that the HAProxy container is running`,
        { cause: err },
      );
    }
  }
}

/** Prefers a local `haproxy` binary; falls back to the HAProxy container when one is named. */
export async function pickConfigValidator(opts: { container?: string; binary?: string } = {}) {
  const binary = opts.binary ?? 'haproxy';
  const hasBinary = await new Promise<boolean>((resolve) =>
    execFile(binary, ['-v'], { timeout: 5_000 }, (err) => resolve(!err)),
  );
  if (hasBinary) return new LocalBinaryValidator(binary);
  if (opts.container) return new DockerExecValidator(opts.container);
  throw new GlintError(
    'LbValidatorUnavailable',
    'no way to validate HAProxy configuration: install haproxy on this host or name the HAProxy container',
  );
}
