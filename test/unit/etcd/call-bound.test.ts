import { describe, expect, it } from 'vitest';
import { TransientError } from '../../../src/errors/index.ts';
import { atEdge, EtcdErrorCode } from '../../../src/etcd/etcd-errors.ts';

describe('atEdge', () => {
  it('fails a call that never settles as unavailable once its bound passes, naming what it did', async () => {
    const never = new Promise<number>(() => {});
    const err = await atEdge('updating a deployment', () => never, 20).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect(err).toMatchObject({ code: EtcdErrorCode.Unavailable });
    expect((err as Error).message).toMatch(/^updating a deployment: etcd did not answer within 0.02 s/);
  });

  it('answers a call that settles within its bound', async () => {
    await expect(atEdge('reading /k', async () => 7, 1_000)).resolves.toBe(7);
  });
});
