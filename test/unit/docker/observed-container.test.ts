import type { ContainerInspectInfo } from 'dockerode';
import { describe, expect, it } from 'vitest';
import { toObservedContainer } from '../../../src/docker/observed-container.ts';

function info(
  overrides: Record<string, unknown> = {},
  labels: Record<string, string> = {},
): ContainerInspectInfo {
  return {
    Id: 'abc',
    Name: '/glint-web-a1',
    Image: 'sha256:img',
    Created: '2026-01-01T00:00:00Z',
    Config: { Image: 'demo@sha256:1', Labels: labels },
    State: {
      Status: 'running',
      ExitCode: 0,
      OOMKilled: false,
      StartedAt: '2026-01-01T00:00:01Z',
      FinishedAt: '0001-01-01T00:00:00Z',
      ...overrides,
    },
    NetworkSettings: { Ports: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '49153' }] } },
  } as unknown as ContainerInspectInfo;
}

describe('toObservedContainer', () => {
  it('reads glint labels, the published port and the run times', () => {
    const c = toObservedContainer(
      info(
        {},
        {
          'glint.managed': 'true',
          'glint.app': 'web',
          'glint.instance': 'a1',
          'glint.version': '1.0.0',
          'glint.digest': 'sha256:1',
          'glint.spec': 'h',
          'glint.deployment': '',
        },
      ),
    );
    expect(c).toMatchObject({
      id: 'abc',
      name: 'glint-web-a1',
      managed: true,
      app: 'web',
      instance: 'a1',
      version: '1.0.0',
      specHash: 'h',
      state: 'running',
      startedAt: '2026-01-01T00:00:01Z',
      hostPort: 49153,
      hostIp: '127.0.0.1',
      health: { status: 'none', failingStreak: 0 },
    });
    expect(c).not.toHaveProperty('deploymentId');
    expect(c).not.toHaveProperty('finishedAt');
    expect(c).not.toHaveProperty('exitCode');
  });

  it('marks a container without glint.managed=true as not managed', () => {
    expect(toObservedContainer(info({}, { 'glint.managed': 'yes' })).managed).toBe(false);
  });

  it('reports exit code, OOM and Docker health of a dead container', () => {
    const c = toObservedContainer(
      info({
        Status: 'exited',
        ExitCode: 137,
        OOMKilled: true,
        FinishedAt: '2026-01-01T00:01:00Z',
        Health: {
          Status: 'unhealthy',
          FailingStreak: 3,
          Log: [{ Output: 'password=hunter2 rejected\n', ExitCode: 1 }],
        },
      }),
    );
    expect(c).toMatchObject({
      state: 'exited',
      exitCode: 137,
      oomKilled: true,
      finishedAt: '2026-01-01T00:01:00Z',
      health: { status: 'unhealthy', failingStreak: 3, lastExitCode: 1 },
    });
    // The check's output can hold secrets: it is not carried.
    expect(JSON.stringify(c)).not.toContain('hunter2');
  });
});
