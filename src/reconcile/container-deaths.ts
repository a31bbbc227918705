import type { RuntimeInstance } from '../rollout/index.ts';

export type ContainerEvent = {
  kind: string;
  containerId: string;
  app?: string | undefined;
  exitCode?: number | undefined;
};

/**
 * What the engine's events said of containers that a list cannot: Docker sends `die` before its
 * container list shows the container stopped, and a list never says "out of memory". Kept until
 * the container is destroyed or a full list no longer shows it.
 */
export class ContainerDeaths {
  readonly #deaths = new Map<string, { exit: string; oom: boolean }>();

  note(e: ContainerEvent): void {
    const known = this.#deaths.get(e.containerId);
    if (e.kind === 'oom') this.#deaths.set(e.containerId, { exit: known?.exit ?? 'killed', oom: true });
    else if (e.kind === 'die')
      this.#deaths.set(e.containerId, {
        exit: e.exitCode === undefined ? 'exited' : `exited with code ${e.exitCode}`,
        oom: known?.oom ?? false,
      });
    else if (e.kind === 'destroy') this.#deaths.delete(e.containerId);
  }

  /** Forgets the containers a full list no longer shows. */
  keepOnly(present: Iterable<string>): void {
    const keep = new Set(present);
    for (const id of this.#deaths.keys()) if (!keep.has(id)) this.#deaths.delete(id);
  }

  /** The list's view, corrected by what the events already said. */
  apply(containers: readonly RuntimeInstance[]): RuntimeInstance[] {
    return containers.map((c) => {
      const death = this.#deaths.get(c.containerId);
      if (!death) return c;
      const exit = death.oom ? `killed: out of memory (${c.exit ?? death.exit})` : (c.exit ?? death.exit);
      return { ...c, running: false, exit };
    });
  }
}
