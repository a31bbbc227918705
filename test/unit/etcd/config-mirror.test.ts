import { describe, expect, it } from 'vitest';
import {
  appsAffectedBy,
  diffMirrors,
  inputsChangedSince,
  type Mirror,
  servicesReferencedBy,
  type WatchedApp,
} from '../../../src/etcd/config-mirror.ts';
import { etcdKeys } from '../../../src/etcd/keys.ts';
import type { KeyValue } from '../../../src/etcd/txn.ts';

const keys = etcdKeys('/glint');
const kv = (key: string, value: string, modRevision = 1): KeyValue => ({
  key,
  value,
  modRevision,
  createRevision: 1,
  version: 1,
  lease: '0',
});
const apps: WatchedApp[] = [
  { name: 'web' },
  { name: 'api' },
  { name: 'worker', staticEnv: { Q: '{{service:db.instances}}' } },
  // Reaches db through its HAProxy frontend: db's instances coming and going change nothing here.
  { name: 'shop', staticEnv: { DB: 'pg://{{service:db}}/shop' } },
  { name: 'db' },
];
const mirror: Mirror = new Map(
  [kv('/glint/config/api/DB', '{{service:db.first}}'), kv('/glint/config/web/X', '1')].map((k) => [k.key, k]),
);
const refs = (app: WatchedApp) => servicesReferencedBy(keys, mirror, app);

type Row = { name: string; key: string; want: Array<{ app: string; reason: string }> };
const rows: Row[] = [
  {
    name: 'shared config concerns every app',
    key: '/glint/config/_shared/LOG_LEVEL',
    want: [
      { app: 'web', reason: 'config' },
      { app: 'api', reason: 'config' },
      { app: 'worker', reason: 'config' },
      { app: 'shop', reason: 'config' },
      { app: 'db', reason: 'config' },
    ],
  },
  {
    name: 'app config concerns that app',
    key: '/glint/config/web/X',
    want: [{ app: 'web', reason: 'config' }],
  },
  {
    name: 'a secret concerns its app',
    key: '/glint/secrets/api/T',
    want: [{ app: 'api', reason: 'secret' }],
  },
  {
    name: 'a service change concerns apps reading its instances (config or static env), not its frontend',
    key: '/glint/services/db/db-1',
    want: [
      { app: 'api', reason: 'service' },
      { app: 'worker', reason: 'service' },
    ],
  },
  { name: 'an unreferenced service concerns nobody', key: '/glint/services/cache/c-1', want: [] },
  { name: 'an unknown app config concerns nobody', key: '/glint/config/other/X', want: [] },
  { name: 'a prefix sibling is not the app', key: '/glint/config/web2/X', want: [] },
];

describe('appsAffectedBy', () => {
  it.each(rows)('$name', (row) => {
    expect(appsAffectedBy(keys, row.key, apps, refs)).toEqual(row.want);
  });
});

describe('servicesReferencedBy', () => {
  type RefRow = { name: string; app: WatchedApp; want: string[] };
  const refRows: RefRow[] = [
    {
      name: '.instances makes a dependency',
      app: { name: 'a', staticEnv: { X: '{{service:db.instances}}' } },
      want: ['db'],
    },
    {
      name: '.first makes a dependency',
      app: { name: 'a', staticEnv: { X: '{{service:db.first}}' } },
      want: ['db'],
    },
    {
      name: 'a stable reference makes none',
      app: { name: 'a', staticEnv: { X: '{{service:db}}' } },
      want: [],
    },
    { name: 'config in etcd counts like static env', app: { name: 'api' }, want: ['db'] },
    {
      name: 'a malformed reference makes none',
      app: { name: 'a', staticEnv: { X: '{{service:db.x}}' } },
      want: [],
    },
  ];
  it.each(refRows)('$name', (row) => {
    expect([...servicesReferencedBy(keys, mirror, row.app)]).toEqual(row.want);
  });
});

describe('diffMirrors', () => {
  it('lists added, changed and removed keys', () => {
    const before: Mirror = new Map([
      ['/a', kv('/a', '1', 1)],
      ['/b', kv('/b', '1', 2)],
      ['/c', kv('/c', '1', 3)],
    ]);
    const after: Mirror = new Map([
      ['/a', kv('/a', '1', 1)],
      ['/b', kv('/b', '2', 9)],
      ['/d', kv('/d', '1', 9)],
    ]);
    expect(diffMirrors(before, after)).toEqual(['/b', '/c', '/d']);
  });
});

describe('inputsChangedSince', () => {
  const at = (entries: KeyValue[]): Mirror => new Map(entries.map((e) => [e.key, e]));
  const state = at([
    kv('/glint/config/_shared/LOG', 'info', 3),
    kv('/glint/config/worker/Q', '{{service:db.instances}}', 4),
    kv('/glint/config/worker/OLD', 'x', 2),
    kv('/glint/secrets/worker/TOKEN', 's', 7),
    kv('/glint/services/db/db-1', '{"host":"127.0.0.1","port":1}', 9),
    kv('/glint/config/web/X', '2', 8),
    kv('/glint/secrets/web/T', 's', 10),
    kv('/glint/services/cache/c-1', '{"host":"127.0.0.1","port":2}', 11),
  ]);
  const names = (app: WatchedApp, revision: number) =>
    inputsChangedSince(keys, state, app, revision).map((k) => k.key);

  it.each([
    {
      name: 'shared config, own config and secrets, and a read service, oldest first',
      app: { name: 'worker' },
      since: 2,
      want: [
        '/glint/config/_shared/LOG',
        '/glint/config/worker/Q',
        '/glint/secrets/worker/TOKEN',
        '/glint/services/db/db-1',
      ],
    },
    { name: 'nothing newer than the release read', app: { name: 'worker' }, since: 11, want: [] },
    {
      name: "another app's config, secrets and unread services are not its inputs",
      app: { name: 'web' },
      since: 7,
      want: ['/glint/config/web/X', '/glint/secrets/web/T'],
    },
  ])('$name', ({ app, since, want }) => {
    expect(names(app, since)).toEqual(want);
  });
});
