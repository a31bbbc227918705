import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KeyedDebouncer } from '../../../src/etcd/keyed-debouncer.ts';

describe('KeyedDebouncer', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('turns a burst for one key into one flush with every item', () => {
    const flushed: Array<[string, number[]]> = [];
    const d = new KeyedDebouncer<string, number>(100, (k, items) => flushed.push([k, items]));
    for (let i = 0; i < 5; i++) d.add('web', i);
    vi.advanceTimersByTime(99);
    expect(flushed).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(flushed).toEqual([['web', [0, 1, 2, 3, 4]]]);
  });

  it('flushes keys independently', () => {
    const flushed: string[] = [];
    const d = new KeyedDebouncer<string, number>(100, (k) => flushed.push(k));
    d.add('a', 1);
    vi.advanceTimersByTime(50);
    d.add('b', 1);
    vi.advanceTimersByTime(50);
    expect(flushed).toEqual(['a']);
    vi.advanceTimersByTime(50);
    expect(flushed).toEqual(['a', 'b']);
  });

  it('a steady stream still flushes once per window', () => {
    let flushes = 0;
    const d = new KeyedDebouncer<string, number>(100, () => flushes++);
    for (let t = 0; t < 1000; t += 10) {
      d.add('web', t);
      vi.advanceTimersByTime(10);
    }
    expect(flushes).toBe(10);
  });

  it('cancelAll drops pending items', () => {
    let flushes = 0;
    const d = new KeyedDebouncer<string, number>(100, () => flushes++);
    d.add('web', 1);
    d.cancelAll();
    vi.advanceTimersByTime(500);
    expect(flushes).toBe(0);
    expect(d.pendingKeys()).toEqual([]);
  });
});
