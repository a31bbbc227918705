import { describe, expect, it } from 'vitest';
import { type AppFacts, deploymentView, instanceViews } from '../../../src/api/api-views.ts';
import type { AppConfig } from '../../../src/config/index.ts';
import type { DeploymentRecord, Release } from '../../../src/etcd/index.ts';
import type { RuntimeInstance } from '../../../src/rollout/index.ts';

const release = (specHash: string, fingerprint: string, readRevision: number): Release => ({
  imageRef: `127.0.0.1:5000/demo-app@sha256:${'a'.repeat(64)}`,
  version: '1.0.0',
  digest: `sha256:${'a'.repeat(64)}`,
  specHash,
  env: { fingerprint, readRevision, values: { GREETING: 'hello' }, secretNames: ['TOKEN'] },
});

const facts = (current: Release): AppFacts => ({
  name: 'web',
  config: {} as AppConfig,
  record: {
    app: 'web',
    current: { ...current, deploymentId: 'd1', deployedAt: '' },
    history: [],
    updatedAt: '',
  },
  deployments: [],
  ready: [],
});

const instance = (id: string, specHash: string, labels: Partial<RuntimeInstance> = {}): RuntimeInstance => ({
  app: 'web',
  instance: id,
  node: 'local',
  containerId: `c-${id}`,
  specHash,
  version: '1.0.0',
  createdAt: 1_000,
  running: true,
  ...labels,
});

describe('the API’s instance view', () => {
  it('shows the env each instance was started with: its labels first, else the release of its spec', () => {
    const views = instanceViews(
      facts(release('spec-a', 'sha256:fa', 7)),
      [
        instance('i1', 'spec-a'),
        instance('i2', 'spec-gone', { envFingerprint: 'sha256:fb', configRevision: 9 }),
        instance('i3', 'spec-unknown'),
      ],
      5_000,
    );
    expect(views.map((v) => [v.id, v.envFingerprint, v.configRevision])).toEqual([
      ['i1', 'sha256:fa', 7],
      ['i2', 'sha256:fb', 9],
      ['i3', null, null],
    ]);
  });

  it('never shows an env value', () => {
    const views = instanceViews(facts(release('spec-a', 'sha256:fa', 7)), [instance('i1', 'spec-a')], 5_000);
    expect(JSON.stringify(views)).not.toContain('hello');
  });
});

describe('the API’s deployment view', () => {
  it('shows what set a config deployment off, by key name', () => {
    const trigger = {
      source: 'etcd' as const,
      keys: ['config/web/GREETING'],
      revision: 12,
      reasons: ['config'],
    };
    const to = release('spec-b', 'sha256:fb', 12);
    const view = deploymentView({
      kind: 'config',
      to,
      trigger,
      strategy: {},
      steps: [],
      progress: {},
    } as unknown as DeploymentRecord);
    expect(view.trigger).toEqual(trigger);
    expect(JSON.stringify(view)).not.toContain('hello');
  });
});
