import { describe, expect, it } from 'vitest';
import { appOfKey, etcdKeys } from '../../../src/etcd/index.ts';

const keys = etcdKeys('/glint');

describe('appOfKey', () => {
  it.each([
    [keys.appRecord('web'), 'web'],
    [keys.deployment('web', 'web-20260101T000000-0001'), 'web'],
    [keys.activeDeployment('api'), 'api'],
    [keys.rotation('api'), 'api'],
    [keys.service('web', 'a1b2c3'), 'web'],
    [`${keys.configPrefix('web')}GREETING`, 'web'],
    [`${keys.secretsPrefix('db')}PASSWORD`, 'db'],
    [`${keys.configPrefix('_shared')}REGION`, '_shared'],
    [keys.leader(), undefined],
    ['/glint', undefined],
    ['/glint-other/state/apps/web', undefined],
    ['/other/state/apps/web', undefined],
    [keys.appsRoot(), undefined],
  ])('%s → %s', (key, app) => {
    expect(appOfKey(keys, key)).toBe(app);
  });
});
