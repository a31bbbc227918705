import { describe, expect, it } from 'vitest';
import type { DeploymentRecord, DeploymentTrigger } from '../../../src/etcd/state-records.ts';
import { failureCause } from '../../../src/rollout/failure-cause.ts';

const failure = { reason: 'HealthCheckFailed', message: 'instance a1 failed health: status 503' };

function record(state: DeploymentRecord['state'], keys?: string[]): DeploymentRecord {
  const trigger: DeploymentTrigger | undefined = keys
    ? { source: 'etcd', keys, revision: 42, reasons: ['config'] }
    : undefined;
  return { state, ...(trigger ? { trigger } : {}) } as DeploymentRecord;
}

type Row = { name: string; record: DeploymentRecord; want: string };

// biome-ignore format: one row, two lines, as a table reads best
const rows: Row[] = [
  { name: 'a config rollout names the key that made it fail',
    record: record('running', ['config/web/FAIL_HEALTH']),
    want: 'config change of config/web/FAIL_HEALTH made the new instances fail: instance a1 failed health: status 503' },
  { name: 'several keys are named, in the order the trigger holds them',
    record: record('running', ['config/_shared/A', 'secrets/web/B']),
    want: 'config change of config/_shared/A, secrets/web/B made the new instances fail: instance a1 failed health: status 503' },
  { name: 'past five keys the rest are counted',
    record: record('running', ['k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7']),
    want: 'config change of k1, k2, k3, k4, k5 and 2 more made the new instances fail: instance a1 failed health: status 503' },
  { name: 'a deployment without a trigger keeps its message',
    record: record('running'), want: failure.message },
  { name: "a rollback's own failure keeps its message",
    record: record('rolling_back', ['config/web/FAIL_HEALTH']), want: failure.message },
];

describe('failureCause', () => {
  it.each(rows)('$name', (row) => {
    const out = failureCause(row.record, failure);
    expect(out).toEqual({ reason: failure.reason, message: row.want });
  });
});
