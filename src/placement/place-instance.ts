import {
  CONSTRAINT_SYNTAX,
  constraintMismatch,
  type PlacementConstraint,
  parseConstraint,
} from './placement-constraint.ts';

/** One Docker engine as placement sees it: its declaration and what runs on it now. */
export type PlacementNode = {
  name: string;
  labels: Readonly<Record<string, string>>;
  /** Most glint containers the engine takes (all apps); undefined: no limit. */
  capacity?: number | undefined;
  /** The engine answers; a down engine gets nothing. */
  up: boolean;
  /** glint containers on it now, all apps, including ones being started. */
  containers: number;
  /** This app's containers on it now; the revision being placed counts. */
  appInstances: number;
};

/** An app's `placement` declaration; `app` only names it in errors. */
export type PlacementRule = {
  constraints: readonly string[];
  spread?: string | undefined;
  app?: string | undefined;
};

export type Placement = { node: string } | { error: string };
export type Placements = { nodes: string[] } | { error: string; placed: string[] };

/**
 * The engine a new instance of an app goes to.
 *
 * Candidates are the engines that are up, meet every constraint and are under capacity.
 * They are ranked by, in order:
 * 1. with `spread: key`, the app's instances in the candidate's group (its value of label
 *    `key`, '' when it has none), counted over every up engine that meets the constraints,
 *    full or not (an instance on a full engine still stands in its zone; those on down
 *    engines are being replaced, and those on engines the constraints exclude are leaving);
 * 2. the app's instances on the candidate;
 * 3. all glint containers on it;
 * 4. its name, so equal engines always give the same answer.
 *
 * `prefer` (the engine of the instance being replaced) wins when it is a candidate and ties
 * the best on the spread keys (1 and 2): keeping an instance where it was never makes the
 * app's spread worse, it only overrides the load and name tie-breaks (3 and 4).
 */
export function placeInstance(
  nodes: readonly PlacementNode[],
  rule: PlacementRule,
  prefer?: string,
): Placement {
  const parsed = parseConstraints(rule);
  if ('error' in parsed) return parsed;
  const fits = nodes.filter((n) => n.up && meetsAll(n, parsed.constraints));
  const candidates = fits.filter(underCapacity);
  if (candidates.length === 0) return { error: noFitMessage(nodes, parsed.constraints, rule) };

  const groupLoad = spreadLoad(fits, rule.spread);
  const ranked = candidates
    .map((node) => ({ node, rank: [groupLoad(node), node.appInstances, node.containers] as const }))
    .sort((a, b) => compareRanks(a.rank, b.rank) || compareNames(a.node.name, b.node.name));
  const best = ranked[0]!;
  const preferred = ranked.find((r) => r.node.name === prefer);
  if (preferred && preferred.rank[0] === best.rank[0] && preferred.rank[1] === best.rank[1])
    return { node: preferred.node.name };
  return { node: best.node.name };
}

/**
 * Places `count` instances one after the other, each counted on its engine before the next
 * is placed; `prefer[i]` is the preferred engine of the i-th. Stops at the first that fits
 * nowhere, with the engines of those placed before it.
 */
export function placeInstances(
  nodes: readonly PlacementNode[],
  rule: PlacementRule,
  count: number,
  prefer: readonly (string | undefined)[] = [],
): Placements {
  const now = nodes.map((n) => ({ ...n }));
  const placed: string[] = [];
  for (let i = 0; i < count; i++) {
    const p = placeInstance(now, rule, prefer[i]);
    if ('error' in p) return { error: p.error, placed };
    const node = now.find((n) => n.name === p.node)!;
    node.appInstances += 1;
    node.containers += 1;
    placed.push(p.node);
  }
  return { nodes: placed };
}

function parseConstraints(rule: PlacementRule): { constraints: PlacementConstraint[] } | { error: string } {
  const constraints: PlacementConstraint[] = [];
  for (const text of rule.constraints) {
    const c = parseConstraint(text);
    if (!c)
      return {
        error: `placement constraint '${text}'${ofApp(rule)} is not ${CONSTRAINT_SYNTAX}; fix placement.constraints`,
      };
    constraints.push(c);
  }
  return { constraints };
}

const meetsAll = (node: PlacementNode, constraints: readonly PlacementConstraint[]) =>
  constraints.every((c) => constraintMismatch(node, c) === undefined);

const underCapacity = (node: PlacementNode) => node.capacity === undefined || node.containers < node.capacity;

/** The app's instances in each node's spread group; 0 for every node when not spreading. */
function spreadLoad(
  fits: readonly PlacementNode[],
  key: string | undefined,
): (node: PlacementNode) => number {
  if (key === undefined) return () => 0;
  const groupOf = (node: PlacementNode) => node.labels[key] ?? '';
  const load = new Map<string, number>();
  for (const n of fits) load.set(groupOf(n), (load.get(groupOf(n)) ?? 0) + n.appInstances);
  return (node) => load.get(groupOf(node)) ?? 0;
}

function compareRanks(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** Code-unit order, not the locale's, so every machine ranks names alike. */
const compareNames = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const ofApp = (rule: PlacementRule) => (rule.app ? ` of app ${rule.app}` : '');

/** One reason per engine, in declaration order: "node-a is down; node-b has no label zone=a". */
function noFitMessage(
  nodes: readonly PlacementNode[],
  constraints: readonly PlacementConstraint[],
  rule: PlacementRule,
): string {
  const head = `no docker endpoint fits${rule.app ? ` app ${rule.app}` : ''}`;
  if (nodes.length === 0) return `${head}: no docker endpoints are declared`;
  const reasons = nodes.map((n) => {
    const why: string[] = [];
    if (!n.up) why.push('is down');
    for (const c of constraints) {
      const mismatch = constraintMismatch(n, c);
      if (mismatch) why.push(mismatch);
    }
    if (!underCapacity(n)) why.push(`is at capacity ${n.capacity}`);
    return `${n.name} ${why.join(' and ')}`;
  });
  return `${head}: ${reasons.join('; ')}`;
}
