import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Docker from 'dockerode';

const run = promisify(execFile);

export type DemoImage = { ref: string; version: string; revision: string };

/**
 * Builds a stamped demo-app version with the plain `docker build` a user would run, and
 * pushes it to `registryHost` (e.g. 127.0.0.1:5000) when given.
 */
export async function buildDemoApp(
  version: string,
  opts: { registryHost?: string; revision?: string; repository?: string; stampVersion?: string } = {},
): Promise<DemoImage> {
  const revision = opts.revision ?? `rev-${version.replaceAll('.', '')}`;
  const repository = opts.repository ?? 'demo-app';
  const ref = opts.registryHost
    ? `${opts.registryHost}/${repository}:${version}`
    : `${repository}:${version}`;
  await run('docker', [
    'build',
    '-q',
    '--build-arg',
    `VERSION=${opts.stampVersion ?? version}`,
    '--build-arg',
    `REVISION=${revision}`,
    '--build-arg',
    'CREATED=2026-01-01T00:00:00Z',
    '-t',
    ref,
    'images/demo-app',
  ]);
  if (opts.registryHost) await pushImage(ref);
  return { ref, version, revision };
}

/** Pushes with an empty authconfig: Docker 20.10 answers 400 without an X-Registry-Auth header. */
export async function pushImage(ref: string, authconfig: Record<string, string> = {}): Promise<void> {
  const docker = new Docker();
  const stream = await docker.getImage(ref).push({ authconfig });
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null) => (err ? reject(err) : resolve()),
      (event: { error?: string; errorDetail?: { message?: string } }) => {
        if (event.error) reject(new Error(`push ${ref}: ${event.errorDetail?.message ?? event.error}`));
      },
    );
  });
}
