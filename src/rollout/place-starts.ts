import { type Placement, type PlacementNode, type PlacementRule, placeInstance } from '../placement/index.ts';

export type PlaceStartsInput = {
  /** Every engine with its counts, as a fresh list showed them. */
  nodes: readonly PlacementNode[];
  rule: PlacementRule;
  count: number;
  /** The app's containers as the same tick listed them. */
  containers: readonly { instance: string; node: string; specHash: string; running: boolean }[];
  /** Starts in flight: those no list shows yet still take a place. */
  pendingStarts: readonly { instance: string; node: string }[];
  /** The revision being started. */
  targetSpec: string;
};

/**
 * Where the tick's new instances go, one after the other, each counted before the next is
 * placed; spread counts the instances of the revision being started. An instance of another revision is replaced on its own engine when placement allows
 * (its engine is preferred while it holds more old instances than new ones started there), so a
 * rollout keeps the spread it found. Pure.
 */
export function placeStarts(input: PlaceStartsInput): Placement[] {
  const listed = new Set(input.containers.map((c) => c.instance));
  // A container whose start is in flight may be listed before it runs: it counts as running.
  const starting = new Set(input.pendingStarts.map((p) => p.instance));
  const live = input.containers.filter((c) => c.running || starting.has(c.instance));
  // Spread is judged on the revision being placed: old instances are on their way out, and
  // counting them would keep a replacement off the engine of the instance it replaces.
  const nodes = input.nodes.map((n) => ({
    ...n,
    appInstances: live.filter((c) => c.node === n.name && c.specHash === input.targetSpec).length,
  }));
  const bump = (name: string) => {
    const n = nodes.find((x) => x.name === name);
    if (!n) return;
    n.containers++;
    n.appInstances++;
  };
  for (const p of input.pendingStarts) if (!listed.has(p.instance)) bump(p.node);
  // Per engine: old instances not yet matched by a new one there.
  const surplus = new Map<string, number>();
  const add = (node: string, by: number) => surplus.set(node, (surplus.get(node) ?? 0) + by);
  for (const c of input.containers) if (c.running) add(c.node, c.specHash === input.targetSpec ? -1 : 1);
  for (const p of input.pendingStarts) if (!listed.has(p.instance)) add(p.node, -1);
  const out: Placement[] = [];
  for (let i = 0; i < input.count; i++) {
    const prefer = [...surplus]
      .filter(([, n]) => n > 0)
      .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))[0]?.[0];
    const placed = placeInstance(nodes, input.rule, prefer);
    out.push(placed);
    if ('node' in placed) {
      bump(placed.node);
      add(placed.node, -1);
    }
  }
  return out;
}
