import { describe, expect, it } from 'vitest';
import { HISTORY_LIMIT, isTerminal, recordDeployedRelease } from '../../../src/etcd/state-records.ts';
import { release as baseRelease } from '../../support/deployment-records.ts';

const release = (n: number) => ({
  ...baseRelease(`1.0.${n}`, n),
  deploymentId: `d-${n}`,
  deployedAt: '2026-01-01T00:00:00.000Z',
});

describe('recordDeployedRelease', () => {
  it('makes the release current and puts it first in history', () => {
    const first = recordDeployedRelease(undefined, 'web', release(1), 't1');
    const second = recordDeployedRelease(first, 'web', release(2), 't2');
    expect(second.current?.version).toBe('1.0.2');
    expect(second.history.map((h) => h.version)).toEqual(['1.0.2', '1.0.1']);
  });

  it(`keeps only the last ${HISTORY_LIMIT} releases`, () => {
    let app = recordDeployedRelease(undefined, 'web', release(0), 't');
    for (let i = 1; i < 30; i++) app = recordDeployedRelease(app, 'web', release(i), 't');
    expect(app.history).toHaveLength(HISTORY_LIMIT);
    expect(app.history[0]?.version).toBe('1.0.29');
    expect(app.history.at(-1)?.version).toBe('1.0.10');
  });
});

describe('isTerminal', () => {
  it.each([
    ['pending', false],
    ['running', false],
    ['paused', false],
    ['rolling_back', false],
    ['succeeded', true],
    ['failed', true],
    ['rolled_back', true],
    ['cancelled', true],
  ] as const)('%s → %s', (state, want) => {
    expect(isTerminal(state)).toBe(want);
  });
});
