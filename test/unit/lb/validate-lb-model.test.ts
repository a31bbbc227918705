import { describe, expect, it } from 'vitest';
import { DEFAULT_TIMEOUTS, type LbApp, type LbModel, validateLbModel } from '../../../src/lb/index.ts';

const httpCheck = {
  type: 'http',
  path: '/healthz',
  intervalMs: 1000,
  rise: 2,
  fall: 2,
  timeoutMs: 1000,
} as const;
const goodApp: LbApp = {
  name: 'web',
  frontend: { bind: '127.0.0.1:8080' },
  check: httpCheck,
  drainTimeoutMs: 30_000,
  servers: [{ name: 'web-1', address: '127.0.0.1', port: 32768, id: 1, state: 'ready' }],
};
const model = (app: Partial<LbApp>, extra: Partial<LbModel> = {}): LbModel => ({
  runDir: '/run',
  hardStopAfterMs: 30_000,
  timeouts: DEFAULT_TIMEOUTS,
  apps: [{ ...goodApp, ...app }],
  ...extra,
});
const server = goodApp.servers[0]!;

const rows: { name: string; model: LbModel; field?: string }[] = [
  { name: 'a complete app is valid', model: model({}) },
  { name: 'an app name with a space is refused', model: model({ name: 'my app' }), field: 'name' },
  {
    name: 'an app with neither port nor host is refused',
    model: model({ frontend: undefined }),
    field: 'frontend',
  },
  {
    name: 'a bind without a port is refused',
    model: model({ frontend: { bind: '127.0.0.1' } }),
    field: 'frontend.bind',
  },
  {
    name: 'a bind port above 65535 is refused',
    model: model({ frontend: { bind: ':70000' } }),
    field: 'frontend.bind',
  },
  {
    name: 'hosts without a shared frontend are refused',
    model: model({ hosts: ['a.example'] }),
    field: 'hosts',
  },
  {
    name: 'a check path with a space is refused',
    model: model({ check: { ...httpCheck, path: '/a b' } }),
    field: 'check.path',
  },
  {
    name: 'an expected status that is not a code list is refused',
    model: model({ check: { ...httpCheck, expectStatus: '2xx' } }),
    field: 'check.expectStatus',
  },
  {
    name: 'a TCP check needs no path',
    model: model({ check: { type: 'tcp', intervalMs: 1000, rise: 2, fall: 2, timeoutMs: 1000 } }),
  },
  {
    name: 'a check of another type is refused',
    model: model({ check: { ...httpCheck, type: 'udp' } as unknown as LbApp['check'] }),
    field: 'check.type',
  },
  {
    name: 'a zero check interval is refused',
    model: model({ check: { ...httpCheck, intervalMs: 0 } }),
    field: 'check.intervalMs',
  },
  {
    name: 'two servers with one id are refused',
    model: model({ servers: [server, { ...server, name: 'web-2' }] }),
    field: 'servers.web-2',
  },
  {
    name: 'a server port of 0 is refused',
    model: model({ servers: [{ ...server, port: 0 }] }),
    field: 'servers.web-1',
  },
];

describe('validateLbModel', () => {
  it.each(rows)('$name', (row) => {
    const problems = validateLbModel(row.model);
    if (!row.field) return expect(problems).toEqual([]);
    expect(problems.map((p) => p.field)).toContain(row.field);
    expect(problems.every((p) => p.app === row.model.apps[0]!.name)).toBe(true);
  });

  it('accepts hosts routed through a shared frontend', () => {
    const ok = model({ frontend: undefined, hosts: ['a.example'] }, { sharedFrontend: { bind: ':80' } });
    expect(validateLbModel(ok)).toEqual([]);
  });

  it('refuses the same app twice', () => {
    const twice = { ...model({}), apps: [goodApp, goodApp] };
    expect(validateLbModel(twice).map((p) => p.message)).toContain('appears twice');
  });
});
