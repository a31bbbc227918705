import { describe, expect, it } from 'vitest';
import {
  type PlacementNode,
  type PlacementRule,
  placeInstance,
  placeInstances,
} from '../../../src/placement/index.ts';

/** An up engine with `app` of this app's instances among `all` glint containers. */
const n = (name: string, app = 0, all = app, over: Partial<PlacementNode> = {}): PlacementNode => ({
  name,
  labels: {},
  up: true,
  containers: all,
  appInstances: app,
  ...over,
});
const zone = (z: string, over: Partial<PlacementNode> = {}) => ({ labels: { zone: z }, ...over });
const rule = (constraints: string[] = [], spread?: string): PlacementRule => ({
  constraints,
  spread,
  app: 'web',
});

type Row = {
  name: string;
  nodes: PlacementNode[];
  rule?: PlacementRule;
  prefer?: string;
  want: { node: string } | { error: RegExp };
};

const rows: Row[] = [
  {
    name: 'picks the engine with the fewest of the app',
    nodes: [n('a', 2), n('b', 1), n('c', 3)],
    want: { node: 'b' },
  },
  {
    name: 'breaks a tie on the app by fewest containers overall',
    nodes: [n('a', 1, 9), n('b', 1, 4), n('c', 1, 6)],
    want: { node: 'b' },
  },
  {
    name: 'breaks a full tie by name, whatever the order given',
    nodes: [n('c'), n('a'), n('b')],
    want: { node: 'a' },
  },
  {
    name: 'never places on a down engine, however empty',
    nodes: [n('a', 0, 0, { up: false }), n('b', 4, 10)],
    want: { node: 'b' },
  },
  {
    name: 'skips an engine at its capacity',
    nodes: [n('a', 0, 20, { capacity: 20 }), n('b', 3, 21, { capacity: 30 })],
    want: { node: 'b' },
  },
  {
    name: 'an engine one under capacity still takes one',
    nodes: [n('a', 0, 19, { capacity: 20 }), n('b', 1, 1)],
    want: { node: 'a' },
  },
  {
    name: 'key=value keeps to engines with that label',
    nodes: [n('a', 0, 0, zone('eu-1')), n('b', 5, 5, zone('eu-2'))],
    rule: rule(['zone=eu-2']),
    want: { node: 'b' },
  },
  {
    name: 'key!=value keeps off that label and takes engines without it',
    nodes: [n('a', 0, 0, zone('eu-1')), n('b', 5, 5, zone('eu-2')), n('c', 7)],
    rule: rule(['zone!=eu-1']),
    want: { node: 'b' },
  },
  {
    name: 'the pseudo-label name pins an endpoint',
    nodes: [n('a'), n('b', 3)],
    rule: rule(['name=b']),
    want: { node: 'b' },
  },
  {
    name: 'spread goes to the zone with the fewest of the app first',
    // b alone is the emptiest engine, but zone eu-1 already holds 2 to eu-2's 1.
    nodes: [n('a', 2, 2, zone('eu-1')), n('b', 0, 0, zone('eu-1')), n('c', 1, 1, zone('eu-2'))],
    rule: rule([], 'zone'),
    want: { node: 'c' },
  },
  {
    name: 'spread counts an instance on a full engine in its zone',
    nodes: [
      n('a', 2, 5, zone('eu-1', { capacity: 5 })),
      n('b', 0, 0, zone('eu-1')),
      n('c', 1, 1, zone('eu-2')),
    ],
    rule: rule([], 'zone'),
    want: { node: 'c' },
  },
  {
    name: "spread does not count a down engine's instances",
    nodes: [
      n('a', 3, 3, zone('eu-1', { up: false })),
      n('b', 0, 0, zone('eu-1')),
      n('c', 1, 1, zone('eu-2')),
    ],
    rule: rule([], 'zone'),
    want: { node: 'b' },
  },
  {
    name: 'spread puts engines without the label in a zone of their own',
    nodes: [n('a', 1, 1, zone('eu-1')), n('b', 1, 1, zone('eu-2')), n('c', 2), n('d', 0)],
    rule: rule([], 'zone'),
    want: { node: 'a' },
  },
  {
    name: 'inside the chosen zone, the fewest of the app wins',
    nodes: [n('a', 1, 1, zone('eu-1')), n('b', 0, 9, zone('eu-1')), n('c', 2, 2, zone('eu-2'))],
    rule: rule([], 'zone'),
    want: { node: 'b' },
  },
  {
    name: 'prefer keeps the replaced instance where it was when that ties the best',
    nodes: [n('a', 1, 1), n('b', 1, 8)],
    prefer: 'b',
    want: { node: 'b' },
  },
  {
    name: 'prefer gives way when it would hold more of the app than the best',
    nodes: [n('a', 1), n('b', 2)],
    prefer: 'b',
    want: { node: 'a' },
  },
  {
    name: "prefer gives way when its zone holds more than another's",
    nodes: [n('a', 1, 1, zone('eu-1')), n('b', 0, 0, zone('eu-1')), n('c', 0, 0, zone('eu-2'))],
    rule: rule([], 'zone'),
    prefer: 'b',
    want: { node: 'c' },
  },
  {
    name: 'prefer is ignored when its engine is down',
    nodes: [n('a', 0, 0, { up: false }), n('b', 0)],
    prefer: 'a',
    want: { node: 'b' },
  },
  {
    name: 'prefer is ignored when its engine breaks a constraint',
    nodes: [n('a', 0, 0, zone('eu-1')), n('b', 0, 3, zone('eu-2'))],
    rule: rule(['zone=eu-2']),
    prefer: 'a',
    want: { node: 'b' },
  },
  {
    name: 'an error names every engine and why it does not fit',
    nodes: [
      n('node-a', 0, 0, { up: false }),
      n('node-b', 0, 0, zone('b')),
      n('node-c', 0, 20, zone('a', { capacity: 20 })),
    ],
    rule: rule(['zone=a']),
    want: {
      error:
        /^no docker endpoint fits app web: node-a is down and has no label zone=a; node-b has zone=b, not zone=a; node-c is at capacity 20$/,
    },
  },
  {
    name: 'an error for key!=value names the label the engine has',
    nodes: [n('a', 0, 0, zone('eu-1'))],
    rule: rule(['zone!=eu-1']),
    want: { error: /a has zone=eu-1 \(the app needs zone!=eu-1\)/ },
  },
  {
    name: 'no engines at all says so',
    nodes: [],
    want: { error: /no docker endpoints are declared/ },
  },
  {
    name: 'a constraint outside the grammar is an error naming the field',
    nodes: [n('a')],
    rule: rule(['zone~eu']),
    want: {
      error: /constraint 'zone~eu' of app web is not 'key=value' or 'key!=value'.*placement\.constraints/,
    },
  },
];

describe('placeInstance', () => {
  it.each(rows)('$name', (row) => {
    const got = placeInstance(row.nodes, row.rule ?? rule(), row.prefer);
    if ('node' in row.want) expect(got).toEqual(row.want);
    else {
      expect(got).toHaveProperty('error');
      expect((got as { error: string }).error).toMatch(row.want.error);
    }
  });

  it('leaves out the app name when the rule does not give one', () => {
    expect(placeInstance([n('a', 0, 0, { up: false })], { constraints: [] })).toEqual({
      error: 'no docker endpoint fits: a is down',
    });
  });
});

describe('placeInstances', () => {
  it('deals instances round the engines, counting each before the next', () => {
    expect(placeInstances([n('a'), n('b'), n('c')], rule(), 5)).toEqual({ nodes: ['a', 'b', 'c', 'a', 'b'] });
  });

  it('fills the emptier zone first, then alternates', () => {
    const nodes = [n('a', 0, 0, zone('eu-1')), n('b', 0, 0, zone('eu-1')), n('c', 0, 0, zone('eu-2'))];
    expect(placeInstances(nodes, rule([], 'zone'), 4)).toEqual({ nodes: ['a', 'c', 'b', 'c'] });
  });

  it('keeps each replacement on its preferred engine while the spread allows', () => {
    expect(placeInstances([n('a'), n('b'), n('c')], rule(), 3, ['c', 'c', 'a'])).toEqual({
      nodes: ['c', 'a', 'b'],
    });
  });

  it('stops at the first instance that fits nowhere, with those placed before it', () => {
    const nodes = [n('a', 0, 1, { capacity: 2 }), n('b', 0, 2, { capacity: 3 })];
    const got = placeInstances(nodes, rule(), 3);
    expect(got).toEqual({
      error: 'no docker endpoint fits app web: a is at capacity 2; b is at capacity 3',
      placed: ['a', 'b'],
    });
  });

  it('does not change the nodes it was given', () => {
    const nodes = [n('a'), n('b')];
    placeInstances(nodes, rule(), 4);
    expect(nodes).toEqual([n('a'), n('b')]);
  });
});
