/**
 * Splits a byte stream of newline-delimited JSON into objects. The engine delivers chunks that
 * hold several objects or half of one, so the tail is kept until its newline arrives.
 */
export class JsonLineSplitter {
  #tail = '';
  #decoder = new TextDecoder();

  /** Objects completed by this chunk; lines that are not JSON are reported via `onBadLine`. */
  push(chunk: Uint8Array | string, onBadLine?: (line: string) => void): unknown[] {
    this.#tail += typeof chunk === 'string' ? chunk : this.#decoder.decode(chunk, { stream: true });
    const lines = this.#tail.split('\n');
    this.#tail = lines.pop() ?? '';
    const out: unknown[] = [];
    for (const raw of lines) {
      const line = raw.trim();
      if (line === '') continue;
      try {
        out.push(JSON.parse(line));
      } catch {
        onBadLine?.(line);
      }
    }
    return out;
  }

  /** Whatever complete object is left when the stream ends without a final newline. */
  end(onBadLine?: (line: string) => void): unknown[] {
    const rest = this.#tail + this.#decoder.decode();
    this.#tail = '';
    return this.push(`${rest}\n`, onBadLine);
  }
}
