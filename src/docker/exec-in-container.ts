import { PassThrough } from 'node:stream';
import type Dockerode from 'dockerode';
import { TransientError } from '../errors/index.ts';
import { type DockerEngine, dockerodeOf } from './engine.ts';
import { translateEngineError } from './engine-errors.ts';
import { DockerErrorCode } from './error-codes.ts';

export type ExecOptions = {
  /** Bound on the whole exec (create, run, read, inspect); a hung command must not hang glint. */
  timeoutMs?: number;
  /** The caller's cancellation: rejects with its reason. */
  signal?: AbortSignal;
};

/** stdout and stderr together, as the command wrote them (the last 4 KB). */
export type ExecResult = { exitCode: number; output: string };

const OUTPUT_CAP = 4096;

/**
 * Runs a command inside a running container, the way `docker exec` does, and returns its exit
 * code and output with Docker's stream framing removed. A command that outlives `timeoutMs`
 * fails with ExecTimeout (transient: the next try may be quicker); the command itself may run
 * on inside the container, since Docker cannot stop an exec.
 */
export async function execInContainer(
  engine: DockerEngine,
  container: string,
  command: string[],
  opts: ExecOptions = {},
): Promise<ExecResult> {
  const docker = dockerodeOf(engine);
  const timeout = opts.timeoutMs === undefined ? undefined : AbortSignal.timeout(opts.timeoutMs);
  const signals = [timeout, opts.signal].filter((s): s is AbortSignal => s !== undefined);
  const signal = signals.length > 0 ? AbortSignal.any(signals) : undefined;
  const what = `running ${command[0]} in container ${container}`;
  try {
    const exec = await docker
      .getContainer(container)
      .exec({ Cmd: command, AttachStdout: true, AttachStderr: true, abortSignal: signal } as object);
    const stream = await exec.start({ hijack: true, stdin: false, abortSignal: signal } as object);
    const output = await demultiplexedOutput(docker, stream, signal);
    const info = await exec.inspect({ abortSignal: signal } as object);
    return { exitCode: info.ExitCode ?? -1, output };
  } catch (err) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    if (timeout?.aborted) {
      throw new TransientError(
        DockerErrorCode.ExecTimeout,
        `${what} did not finish within ${opts.timeoutMs}ms`,
        { cause: err, details: { container, command: command[0] } },
      );
    }
    throw translateEngineError(err, what);
  }
}

/** Reads an exec's multiplexed stream to its end; stdout and stderr land in one text. */
async function demultiplexedOutput(
  docker: Dockerode,
  stream: NodeJS.ReadableStream,
  signal: AbortSignal | undefined,
): Promise<string> {
  let output = '';
  const sink = new PassThrough();
  sink.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_CAP);
  });
  docker.modem.demuxStream(stream, sink, sink);
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      (stream as unknown as { destroy(): void }).destroy();
      reject(signal?.reason);
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    stream.on('end', () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    stream.on('error', (err) => {
      signal?.removeEventListener('abort', onAbort);
      reject(err);
    });
  });
  return output;
}
