import { describe, expect, it } from 'vitest';
import { sleep } from '../../../src/time/index.ts';

describe('sleep', () => {
  it('resolves at once when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    let settled = false;
    const done = sleep(60_000, controller.signal).then(() => {
      settled = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(true);
    await done;
  });

  it('resolves when the signal aborts during the wait', async () => {
    const controller = new AbortController();
    let settled = false;
    const done = sleep(60_000, controller.signal).then(() => {
      settled = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    controller.abort();
    await done;
    expect(settled).toBe(true);
  });
});
