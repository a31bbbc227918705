import { BrokenCircuitError, isBrokenCircuitError } from 'cockatiel';
import { EtcdPermissionDeniedError, GRPCDeadlineExceededError, GRPCUnavailableError } from 'etcd3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { etcdFaultHandling, isRetriedEtcdError } from '../../../src/etcd/fault-handling.ts';

/** A call that fails with each of `errors` in turn, then answers `ok`; counts its tries. */
function failingThen(errors: Error[]) {
  const call = {
    tries: 0,
    run: async () => {
      const err = errors[call.tries++];
      if (err) throw err;
      return 'ok';
    },
  };
  return call;
}

const unavailable = () => new GRPCUnavailableError('14 UNAVAILABLE: etcdserver: leader changed');

describe('isRetriedEtcdError', () => {
  it.each([
    { name: 'a leader change (unavailable)', err: unavailable(), want: true },
    {
      name: 'a call past its deadline',
      err: new GRPCDeadlineExceededError('4 DEADLINE_EXCEEDED'),
      want: true,
    },
    { name: 'every member skipped (circuits open)', err: new BrokenCircuitError(), want: true },
    {
      name: 'a permission refused',
      err: new EtcdPermissionDeniedError('etcdserver: permission denied'),
      want: false,
    },
    { name: 'a plain error', err: new Error('bad request'), want: false },
    { name: 'not an error', err: 'unavailable', want: false },
  ])('$name: $want', ({ err, want }) => {
    expect(isRetriedEtcdError(err)).toBe(want);
  });
});

describe('etcdFaultHandling', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits out an election: a call that fails twice on a leader change still answers', async () => {
    const call = failingThen([unavailable(), unavailable()]);
    await expect(etcdFaultHandling({ retryDelayMs: 1 }).global.execute(call.run)).resolves.toBe('ok');
    expect(call.tries).toBe(3);
  });

  it('does not retry what another try cannot fix', async () => {
    const call = failingThen([new EtcdPermissionDeniedError('etcdserver: permission denied')]);
    await expect(etcdFaultHandling({ retryDelayMs: 1 }).global.execute(call.run)).rejects.toBeInstanceOf(
      EtcdPermissionDeniedError,
    );
    expect(call.tries).toBe(1);
  });

  it('keeps retrying within its time budget however many tries fail fast', async () => {
    const call = failingThen(Array.from({ length: 20 }, unavailable));
    await expect(
      etcdFaultHandling({ retryDelayMs: 1, maxRetryDelayMs: 1, retryBudgetMs: 60_000 }).global.execute(
        call.run,
      ),
    ).resolves.toBe('ok');
    expect(call.tries).toBe(21);
  });

  it('gives up once its time budget is spent, with the last error', async () => {
    const call = failingThen(Array.from({ length: 10_000 }, unavailable));
    const failure = await etcdFaultHandling({ retryDelayMs: 5, maxRetryDelayMs: 5, retryBudgetMs: 100 })
      .global.execute(call.run)
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(GRPCUnavailableError);
    expect(call.tries).toBeGreaterThan(1);
    expect(call.tries).toBeLessThan(10_000);
  });

  it('reads a budget given as a function at each call', async () => {
    let budgetMs = 50;
    const policy = etcdFaultHandling({ retryDelayMs: 5, maxRetryDelayMs: 5, retryBudgetMs: () => budgetMs });
    const first = failingThen(Array.from({ length: 10_000 }, unavailable));
    await expect(policy.global.execute(first.run)).rejects.toBeInstanceOf(GRPCUnavailableError);
    expect(first.tries).toBeLessThan(10_000);
    budgetMs = 60_000;
    const later = failingThen([unavailable(), unavailable()]);
    await expect(policy.global.execute(later.run)).resolves.toBe('ok');
    expect(later.tries).toBe(3);
  });

  it('retries while every circuit is open, so the call lands once a member is tried again', async () => {
    const call = failingThen([new BrokenCircuitError(), new BrokenCircuitError()]);
    await expect(etcdFaultHandling({ retryDelayMs: 1 }).global.execute(call.run)).resolves.toBe('ok');
    expect(call.tries).toBe(3);
  });

  it('skips a member after three failures in a row and tries it again after reopenAfterMs', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const member = etcdFaultHandling({ reopenAfterMs: 1_000 }).host();
    const call = failingThen([unavailable(), unavailable(), unavailable()]);
    for (let i = 0; i < 3; i++)
      await expect(member.execute(call.run)).rejects.toBeInstanceOf(GRPCUnavailableError);
    const skipped = await member.execute(call.run).catch((e: unknown) => e);
    expect(isBrokenCircuitError(skipped)).toBe(true);
    expect(call.tries).toBe(3);
    vi.setSystemTime(Date.now() + 999);
    expect(isBrokenCircuitError(await member.execute(call.run).catch((e: unknown) => e))).toBe(true);
    vi.setSystemTime(Date.now() + 2);
    await expect(member.execute(call.run)).resolves.toBe('ok');
    expect(call.tries).toBe(4);
  });
});
