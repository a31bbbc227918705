import { describe, expect, it } from 'vitest';
import { type ContainerHealthSource, probeDockerHealth, probeExec } from '../../../src/health/index.ts';

const exec = (exitCode: number, output: string, delayMs = 0) => ({
  exec: (_id: string, _cmd: string[], call?: { signal?: AbortSignal }) =>
    new Promise<{ exitCode: number; output: string }>((resolve, reject) => {
      const timer = setTimeout(() => resolve({ exitCode, output }), delayMs);
      call?.signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(call.signal?.reason);
      });
    }),
});

describe('probeExec', () => {
  it('passes on exit code 0', async () => {
    expect(await probeExec(exec(0, 'ok'), { containerId: 'c', command: ['true'], timeoutMs: 500 })).toEqual({
      ok: true,
      reason: 'exit code 0',
    });
  });

  it('fails with the exit code only: command output can hold secrets and reasons are logged', async () => {
    const result = await probeExec(exec(2, 'starting\nconnecting as admin:hunter2 failed\n'), {
      containerId: 'c',
      command: ['x'],
      timeoutMs: 500,
    });
    expect(result).toEqual({ ok: false, reason: 'exit code 2' });
  });

  it('fails with the timeout when the command hangs', async () => {
    expect(await probeExec(exec(0, '', 1_000), { containerId: 'c', command: ['x'], timeoutMs: 50 })).toEqual({
      ok: false,
      reason: 'timeout after 50ms',
    });
  });
});

describe('probeDockerHealth', () => {
  const source = (
    observed: Awaited<ReturnType<ContainerHealthSource['inspect']>>,
  ): ContainerHealthSource => ({
    inspect: async () => observed,
  });
  const probe = (s: ContainerHealthSource) => probeDockerHealth(s, { containerId: 'c', timeoutMs: 500 });

  it.each([
    {
      name: 'healthy passes',
      observed: { state: 'running', health: { status: 'healthy' } },
      want: { ok: true, reason: 'docker health healthy' },
    },
    {
      name: 'starting fails as starting',
      observed: { state: 'running', health: { status: 'starting' } },
      want: { ok: false, reason: 'docker health starting' },
    },
    {
      name: 'unhealthy fails without the check output, which can hold secrets',
      observed: { state: 'running', health: { status: 'unhealthy', lastExitCode: 1 } },
      want: { ok: false, reason: 'docker health unhealthy (exit code 1)' },
    },
    {
      name: 'no HEALTHCHECK fails and says so',
      observed: { state: 'running', health: { status: 'none' } },
      want: { ok: false, reason: 'image declares no HEALTHCHECK' },
    },
    {
      name: 'an exited container fails',
      observed: { state: 'exited', health: { status: 'healthy' } },
      want: { ok: false, reason: 'container exited' },
    },
    {
      name: 'a missing container fails',
      observed: undefined,
      want: { ok: false, reason: 'container not found' },
    },
  ])('$name', async ({ observed, want }) => {
    expect(await probe(source(observed))).toEqual(want);
  });
});
