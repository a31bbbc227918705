import { describe, expect, it } from 'vitest';
import { appRecordEvents } from '../../../src/api/app-record-events.ts';
import type { AppRecord, ConfigChange } from '../../../src/etcd/index.ts';

const AT = '2026-01-01T00:00:00.000Z';

function change(revision: number, outcome: ConfigChange['outcome'], extra: Partial<ConfigChange> = {}) {
  return {
    at: `2026-01-01T00:00:0${revision}.000Z`,
    revision,
    keys: ['config/web/GREETING'],
    outcome,
    ...extra,
  };
}

function appRecord(configChanges?: ConfigChange[]): AppRecord {
  return { app: 'web', history: [], updatedAt: AT, ...(configChanges ? { configChanges } : {}) };
}

describe('appRecordEvents', () => {
  const queued = change(1, 'queued', { message: 'd0 is active', fingerprint: 'f2' });
  const started = { ...change(2, 'started', { deploymentId: 'd2', fingerprint: 'f2' }), revision: 1 };
  const rows: Array<{ name: string; previous: AppRecord | undefined; next: AppRecord; want: unknown[] }> = [
    { name: 'a record without changes tells nothing', previous: undefined, next: appRecord(), want: [] },
    {
      name: 'a new entry is a config change, with its outcome and no value',
      previous: appRecord(),
      next: appRecord([queued]),
      want: [{ type: 'config:changed', payload: { app: 'web', ...queued } }],
    },
    {
      name: 'a queued change rolled out is told again, with its deployment',
      previous: appRecord([queued]),
      next: appRecord([started, queued]),
      want: [{ type: 'config:changed', payload: { app: 'web', ...started } }],
    },
    {
      name: 'entries that arrived together come oldest first',
      previous: appRecord(),
      next: appRecord([started, queued]),
      want: [
        { type: 'config:changed', payload: { app: 'web', ...queued } },
        { type: 'config:changed', payload: { app: 'web', ...started } },
      ],
    },
    {
      name: 'a release recorded over the same changes tells nothing',
      previous: appRecord([queued]),
      next: { ...appRecord([queued]), instances: 3 },
      want: [],
    },
    {
      name: 'the oldest entry falling off the list tells nothing',
      previous: appRecord([started, queued]),
      next: appRecord([started]),
      want: [],
    },
  ];
  it.each(rows)('$name', ({ previous, next, want }) => {
    expect(appRecordEvents(previous, next)).toEqual(want);
  });
});
