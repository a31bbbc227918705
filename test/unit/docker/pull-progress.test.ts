import { describe, expect, it } from 'vitest';
import { DockerErrorCode } from '../../../src/docker/index.ts';
import { classifyPullError, PullProgress, RateGate } from '../../../src/docker/pull-progress.ts';
import { isTransient } from '../../../src/errors/index.ts';

describe('PullProgress', () => {
  it('sums layers and bytes from the engine events', () => {
    const p = new PullProgress();
    p.update({ status: 'Pulling from demo-app', id: '1.0.0' });
    p.update({ status: 'Pulling fs layer', id: 'l1' });
    p.update({ status: 'Already exists', id: 'l0' });
    p.update({ status: 'Downloading', id: 'l1', progressDetail: { current: 50, total: 200 } });
    p.update({ status: 'Pulling fs layer', id: 'l2' });
    p.update({ status: 'Downloading', id: 'l2', progressDetail: { current: 10, total: 100 } });
    p.update({ status: 'Download complete', id: 'l2' });
    expect(p.summary()).toEqual({ layers: 3, done: 1, currentBytes: 150, totalBytes: 300 });
    p.update({ status: 'Pull complete', id: 'l2' });
    p.update({ status: 'Pull complete', id: 'l1' });
    expect(p.summary()).toMatchObject({ done: 3, currentBytes: 300 });
  });
});

describe('RateGate', () => {
  it('opens at most once per interval', () => {
    const gate = new RateGate(1000);
    expect([0, 10, 999, 1000, 1500, 2001].map((t) => gate.open(t))).toEqual([
      true,
      false,
      false,
      true,
      false,
      true,
    ]);
  });
});

describe('classifyPullError', () => {
  it.each([
    {
      message: 'manifest for x@sha256:1 not found: manifest unknown',
      code: DockerErrorCode.PullFailed,
      transient: false,
    },
    {
      message: 'unauthorized: authentication required',
      code: DockerErrorCode.RegistryAuthFailed,
      transient: false,
    },
    {
      message: 'Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused',
      code: DockerErrorCode.PullInterrupted,
      transient: true,
    },
    { message: 'unexpected EOF', code: DockerErrorCode.PullInterrupted, transient: true },
  ])('$message → $code', ({ message, code, transient }) => {
    const err = classifyPullError('127.0.0.1:5000/x@sha256:1', '127.0.0.1:5000', message);
    expect(err.code).toBe(code);
    expect(isTransient(err)).toBe(transient);
  });
});
