import { describe, expect, it } from 'vitest';
import { etcdKeys, variableNameOf } from '../../../src/etcd/keys.ts';
import { prefixEnd, toRpcCompare, toRpcOp } from '../../../src/etcd/txn.ts';

describe('etcdKeys', () => {
  const k = etcdKeys('/glint/');
  it.each([
    ['config of an app', k.configPrefix('web'), '/glint/config/web/'],
    ['shared config', k.configPrefix('_shared'), '/glint/config/_shared/'],
    ['secrets', k.secretsPrefix('web'), '/glint/secrets/web/'],
    ['a service instance', k.service('web', 'web-1'), '/glint/services/web/web-1'],
    ['an app record', k.appRecord('web'), '/glint/state/apps/web'],
    ['a deployment', k.deployment('web', 'd-1'), '/glint/state/deployments/web/d-1'],
    ['the leader', k.leader(), '/glint/state/leader'],
  ])('%s', (_name, got, want) => {
    expect(got).toBe(want);
  });

  it('adds a leading slash to a bare prefix', () => {
    expect(etcdKeys('team').leader()).toBe('/team/state/leader');
  });

  it.each(['a/b', '..', '', 'x y'])('refuses the app name %j', (name) => {
    expect(() => k.configPrefix(name)).toThrow(/etcd key/);
  });

  it('takes the variable name from the last segment', () => {
    expect(variableNameOf('/glint/config/web/DB_URL')).toBe('DB_URL');
  });
});

describe('txn conversion', () => {
  it('computes the range end of a prefix', () => {
    expect(prefixEnd('/a/').toString()).toBe('/a0');
    expect([...prefixEnd('\u00ff')]).toEqual([0xc3, 0xc0]);
  });

  it('uses numeric enum values for compares', () => {
    expect(toRpcCompare({ key: '/k', target: 'create', op: '==', value: 0 })).toMatchObject({
      target: 1,
      result: 0,
      create_revision: 0,
    });
    expect(toRpcCompare({ key: '/k', target: 'mod', op: '!=', value: 5 })).toMatchObject({
      target: 2,
      result: 3,
      mod_revision: 5,
    });
  });

  it('turns a prefix get into a range', () => {
    const op = toRpcOp({ type: 'get', key: '/a/', prefix: true });
    expect(op.request_range?.range_end?.toString()).toBe('/a0');
  });
});
