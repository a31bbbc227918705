/**
 * Collects items per key and flushes each key once per window, counted from the first item
 * after the previous flush: a burst of writes to one app becomes one event, and a steady
 * stream still produces one event per window instead of starving.
 */
export class KeyedDebouncer<K, T> {
  readonly #windowMs: number;
  readonly #flush: (key: K, items: T[]) => void;
  readonly #pending = new Map<K, { items: T[]; timer: NodeJS.Timeout }>();

  constructor(windowMs: number, flush: (key: K, items: T[]) => void) {
    this.#windowMs = windowMs;
    this.#flush = flush;
  }

  add(key: K, item: T): void {
    const open = this.#pending.get(key);
    if (open) {
      open.items.push(item);
      return;
    }
    const timer = setTimeout(() => {
      const done = this.#pending.get(key);
      this.#pending.delete(key);
      if (done) this.#flush(key, done.items);
    }, this.#windowMs);
    this.#pending.set(key, { items: [item], timer });
  }

  /** Keys waiting for their window to close. */
  pendingKeys(): K[] {
    return [...this.#pending.keys()];
  }

  cancelAll(): void {
    for (const { timer } of this.#pending.values()) clearTimeout(timer);
    this.#pending.clear();
  }
}
