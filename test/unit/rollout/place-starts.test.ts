import { describe, expect, it } from 'vitest';
import type { PlacementNode } from '../../../src/placement/index.ts';
import { type PlaceStartsInput, placeStarts } from '../../../src/rollout/place-starts.ts';

const node = (name: string, over: Partial<PlacementNode> = {}): PlacementNode => ({
  name,
  labels: {},
  up: true,
  containers: 0,
  appInstances: 0,
  ...over,
});
const running = (instance: string, at: string, specHash: string) => ({
  instance,
  node: at,
  specHash,
  running: true,
});

const base: PlaceStartsInput = {
  nodes: [node('a'), node('b')],
  rule: { constraints: [] },
  count: 0,
  containers: [],
  pendingStarts: [],
  targetSpec: 'new',
};
const where = (input: Partial<PlaceStartsInput>) =>
  placeStarts({ ...base, ...input }).map((p) => ('node' in p ? p.node : `error: ${p.error}`));

describe('placeStarts', () => {
  it('spreads a first deployment of 6 over two engines, 3 and 3', () => {
    const placed = where({ count: 6 });
    expect(placed.filter((n) => n === 'a')).toHaveLength(3);
    expect(placed.filter((n) => n === 'b')).toHaveLength(3);
  });

  it('replaces an old instance on its own engine', () => {
    const containers = [running('o1', 'b', 'old'), running('n1', 'a', 'new')];
    expect(
      where({
        count: 1,
        containers,
        nodes: [node('a', { containers: 1 }), node('b', { containers: 1 })],
      }),
    ).toEqual(['b']);
  });

  it('counts starts in flight that no list shows yet', () => {
    expect(where({ count: 1, pendingStarts: [{ instance: 'p1', node: 'a' }] })).toEqual(['b']);
  });

  it('counts a start in flight that a list shows before it runs', () => {
    const containers = [{ instance: 'p1', node: 'a', specHash: 'new', running: false }];
    expect(where({ count: 1, containers, pendingStarts: [{ instance: 'p1', node: 'a' }] })).toEqual(['b']);
  });

  it('places nothing on an engine that is not up, and says why when none is', () => {
    expect(where({ count: 2, nodes: [node('a', { up: false }), node('b')] })).toEqual(['b', 'b']);
    const [only] = where({ count: 1, nodes: [node('a', { up: false })] });
    expect(only).toMatch(/^error: .*a/);
  });

  it('heals the instances a lost engine had onto the engine left, whatever their old spread', () => {
    const containers = [running('n1', 'a', 'new'), running('n2', 'a', 'new'), running('n3', 'a', 'new')];
    expect(
      where({
        count: 3,
        containers,
        nodes: [node('a', { containers: 3, appInstances: 3 }), node('b', { up: false })],
      }),
    ).toEqual(['a', 'a', 'a']);
  });
});
