import { describe, expect, it } from 'vitest';
import type { EnvSnapshot } from '../../../src/etcd/env-snapshot.ts';
import { resolveEnvSnapshot } from '../../../src/etcd/env-snapshot.ts';
import type { ServiceAddress } from '../../../src/etcd/service-refs.ts';

const P = '/glint';
const shared = (name: string, value: string) => ({ key: `${P}/config/_shared/${name}`, value });
const config = (name: string, value: string) => ({ key: `${P}/config/web/${name}`, value });
const secret = (name: string, value: string) => ({ key: `${P}/secrets/web/${name}`, value });
const inst = (instance: string, port: number): ServiceAddress => ({ instance, host: '127.0.0.1', port });

// The declared apps: db and api have frontends of their own, cron has none.
const frontends = new Map<string, number | undefined>([
  ['db', 15432],
  ['api', 18080],
  ['cron', undefined],
]);

function snap(over: Partial<EnvSnapshot>): EnvSnapshot {
  return {
    app: 'web',
    staticEnv: {},
    frontends,
    shared: [],
    config: [],
    secrets: [],
    services: new Map(),
    revision: 7,
    ...over,
  };
}

type Row = { name: string; input: Partial<EnvSnapshot>; want: Record<string, string> };

const rows: Row[] = [
  { name: 'static env alone passes through', input: { staticEnv: { A: '1' } }, want: { A: '1' } },
  {
    name: 'shared config overrides static env',
    input: { staticEnv: { A: 'static' }, shared: [shared('A', 'shared')] },
    want: { A: 'shared' },
  },
  {
    name: 'app config overrides shared config',
    input: {
      staticEnv: { A: 's' },
      shared: [shared('A', 'sh'), shared('B', 'b')],
      config: [config('A', 'app')],
    },
    want: { A: 'app', B: 'b' },
  },
  {
    name: 'secrets override app config',
    input: { config: [config('TOKEN', 'plain')], secrets: [secret('TOKEN', 'hidden')] },
    want: { TOKEN: 'hidden' },
  },
  {
    name: 'the last key segment is the variable name',
    input: { config: [{ key: `${P}/config/web/nested/DEEP_NAME`, value: 'x' }] },
    want: { DEEP_NAME: 'x' },
  },
  {
    name: "a stable reference expands to the service's HAProxy frontend under glint-lb",
    input: {
      config: [config('DB', 'postgres://{{service:db}}/app')],
      services: new Map([['db', [inst('db-b', 2), inst('db-a', 1)]]]),
    },
    want: { DB: 'postgres://glint-lb:15432/app' },
  },
  {
    name: 'a stable reference expands the same with no ready instance (HAProxy answers 503 meanwhile)',
    input: { staticEnv: { UPSTREAM_URL: 'http://{{service:api}}/' } },
    want: { UPSTREAM_URL: 'http://glint-lb:18080/' },
  },
  {
    name: "a stable reference does not follow the service's instances",
    input: {
      staticEnv: { UPSTREAM_URL: 'http://{{service:api}}/' },
      services: new Map([['api', [inst('api-new', 9)]]]),
    },
    want: { UPSTREAM_URL: 'http://glint-lb:18080/' },
  },
  {
    name: '.instances expands to every ready instance, sorted by instance',
    input: {
      config: [config('DB', 'postgres://{{service:db.instances}}/app')],
      services: new Map([['db', [inst('db-b', 2), inst('db-a', 1)]]]),
    },
    want: { DB: 'postgres://127.0.0.1:1,127.0.0.1:2/app' },
  },
  {
    name: '.instances works for an app without a frontend of its own',
    input: {
      config: [config('CRON', '{{service:cron.instances}}')],
      services: new Map([['cron', [inst('c1', 5)]]]),
    },
    want: { CRON: '127.0.0.1:5' },
  },
  {
    name: '.first picks one instance',
    input: {
      config: [config('DB', '{{service:db.first}}')],
      services: new Map([['db', [inst('db-b', 2), inst('db-a', 1)]]]),
    },
    want: { DB: '127.0.0.1:1' },
  },
  {
    name: 'references of every form in one value all expand',
    input: {
      staticEnv: { PEERS: '{{service:a.instances}};{{ service:b.first }};{{service:api}}' },
      services: new Map([
        ['a', [inst('a1', 10)]],
        ['b', [inst('b1', 20)]],
      ]),
    },
    want: { PEERS: '127.0.0.1:10;127.0.0.1:20;glint-lb:18080' },
  },
];

describe('resolveEnvSnapshot', () => {
  it.each(rows)('$name', (row) => {
    expect(resolveEnvSnapshot(snap(row.input)).env).toEqual(row.want);
  });

  type ErrRow = { name: string; input: Partial<EnvSnapshot>; code: string; mentions: string[] };
  const errors: ErrRow[] = [
    {
      name: 'a reference to the instances of a service without any names key, service and fix',
      input: { config: [config('DB', '{{service:db.instances}}')] },
      code: 'ServiceReferenceUnresolved',
      mentions: [`${P}/config/web/DB`, '"db"', 'deploy db first', '{{service:db}}'],
    },
    {
      name: '.first of a service without instances fails the same way',
      input: { staticEnv: { DB: '{{service:db.first}}' } },
      code: 'ServiceReferenceUnresolved',
      mentions: ['apps.web.env.DB', '"db"'],
    },
    {
      name: 'a stable reference to an undeclared app names the key, the service and the fix',
      input: { config: [config('UPSTREAM_URL', 'http://{{service:nope}}/')] },
      code: 'ServiceFrontendUnknown',
      mentions: [`${P}/config/web/UPSTREAM_URL`, '{{service:nope}}', 'declare nope under apps'],
    },
    {
      name: 'a stable reference to an app without a frontend port says how to give it one',
      input: { staticEnv: { CRON: '{{service:cron}}' } },
      code: 'ServiceFrontendUnknown',
      mentions: ['apps.web.env.CRON', 'set apps.cron.routing.frontendPort', 'use {{service:cron.instances}}'],
    },
    {
      name: 'an unknown form names the key and the forms there are',
      input: { config: [config('DB', '{{service:db.all}}')] },
      code: 'InvalidServiceReference',
      mentions: [`${P}/config/web/DB`, '{{service:NAME.instances}}'],
    },
    {
      name: 'an invalid variable name names the key',
      input: { config: [config('9LIVES', 'x')] },
      code: 'InvalidVariableName',
      mentions: [`${P}/config/web/9LIVES`],
    },
    {
      name: 'an oversized value names the key',
      input: { secrets: [secret('BIG', 'x'.repeat(40_000))] },
      code: 'EnvValueTooLarge',
      mentions: [`${P}/secrets/web/BIG`, '40000'],
    },
    {
      name: 'a malformed reference names the key',
      input: { config: [config('DB', '{{service:}}')] },
      code: 'InvalidServiceReference',
      mentions: [`${P}/config/web/DB`],
    },
    {
      name: 'two keys of one layer naming one variable are refused',
      input: { config: [config('A', '1'), { key: `${P}/config/web/x/A`, value: '2' }] },
      code: 'DuplicateVariable',
      mentions: [`${P}/config/web/A`, `${P}/config/web/x/A`],
    },
  ];

  it.each(errors)('$name', (row) => {
    let caught: unknown;
    try {
      resolveEnvSnapshot(snap(row.input));
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: row.code });
    for (const text of row.mentions) expect((caught as Error).message).toContain(text);
  });

  it('never puts a secret value into an error message', () => {
    const big = `s3cr3t-${'y'.repeat(40_000)}`;
    expect(() => resolveEnvSnapshot(snap({ secrets: [secret('K', big)] }))).toThrow(/bytes/);
    try {
      resolveEnvSnapshot(snap({ secrets: [secret('K', big)] }));
    } catch (err) {
      expect(
        JSON.stringify({ m: (err as Error).message, d: (err as { details: unknown }).details }),
      ).not.toContain('s3cr3t');
    }
  });

  it('reports secret names, referenced services and the revision', () => {
    const resolved = resolveEnvSnapshot(
      snap({
        config: [config('DB', '{{service:db}}'), config('Q', '{{service:api.first}}')],
        secrets: [secret('B_TOKEN', 'b'), secret('A_KEY', 'a')],
        services: new Map([['api', [inst('d', 1)]]]),
      }),
    );
    expect(resolved.secretNames).toEqual(['A_KEY', 'B_TOKEN']);
    expect(resolved.referencedServices).toEqual(['api', 'db']);
    expect(resolved.revision).toBe(7);
  });

  it('gives the same fingerprint for the same env and a different one when a secret changes', () => {
    const a = resolveEnvSnapshot(snap({ secrets: [secret('K', 'one')] }));
    const b = resolveEnvSnapshot(snap({ secrets: [secret('K', 'one')] }));
    const c = resolveEnvSnapshot(snap({ secrets: [secret('K', 'two')] }));
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(a.fingerprint).not.toBe(c.fingerprint);
    expect(a.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});
