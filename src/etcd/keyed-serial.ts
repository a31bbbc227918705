/**
 * Runs work for one key strictly one after another, in call order, while different keys run
 * side by side. The registry uses it so a register, a deregister and a re-register after a
 * lost lease can't overtake each other on the way to etcd.
 */
export class KeyedSerial<K> {
  readonly #tails = new Map<K, Promise<unknown>>();

  run<T>(key: K, work: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    // The next caller waits for this one whether it succeeds or fails.
    const result = previous.catch(() => undefined).then(work);
    const tail = result.catch(() => undefined);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }
}
