import { describe, expect, it } from 'vitest';
import { KeyedSerial } from '../../../src/etcd/keyed-serial.ts';

function gate() {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

describe('KeyedSerial', () => {
  it('runs work for one key in call order, even when the first waits and the second would not', async () => {
    const serial = new KeyedSerial<string>();
    const order: string[] = [];
    const g = gate();
    const first = serial.run('k', async () => {
      await g.opened;
      order.push('first');
    });
    const second = serial.run('k', async () => {
      order.push('second');
    });
    await Promise.resolve();
    expect(order).toEqual([]);
    g.open();
    await Promise.all([first, second]);
    expect(order).toEqual(['first', 'second']);
  });

  it('lets other keys through while one key waits', async () => {
    const serial = new KeyedSerial<string>();
    const g = gate();
    const blocked = serial.run('a', () => g.opened);
    await expect(serial.run('b', async () => 'b done')).resolves.toBe('b done');
    g.open();
    await blocked;
  });

  it('a failure reaches its caller only; the next work for the key still runs', async () => {
    const serial = new KeyedSerial<string>();
    const failed = serial.run('k', async () => {
      throw new Error('boom');
    });
    const next = serial.run('k', async () => 'ran');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ran');
  });
});
