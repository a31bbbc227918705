import { describe, expect, it } from 'vitest';
import { GLINT_OWN_LABELS } from '../../../src/config/app-schema.ts';
import { validateConfig } from '../../../src/config/index.ts';
import { GLINT_LABELS, type RegistryClient } from '../../../src/docker/index.ts';
import type { EtcdClient } from '../../../src/etcd/index.ts';
import { AppReleases } from '../../../src/rollout/index.ts';

function declaration(labels: Record<string, string>) {
  const parsed = validateConfig({
    etcd: { endpoints: ['http://127.0.0.1:2379'] },
    apps: {
      web: {
        image: '127.0.0.1:5000/demo-app',
        version: '1.0.0',
        instances: 1,
        port: 8080,
        etcdConfig: false,
        labels,
        health: { type: 'http', path: '/healthz' },
        routing: { frontendPort: 8080 },
      },
    },
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.config;
}

describe('an app’s labels in the declaration', () => {
  it('reserves exactly the labels glint puts on its containers', () => {
    expect([...GLINT_OWN_LABELS].sort()).toEqual(Object.values(GLINT_LABELS).sort());
  });

  it('reach every container spec of the app, beside the labels the engine adds', async () => {
    const config = declaration({ 'com.example.team': 'payments', 'glint.test': 'run-1' });
    const releases = new AppReleases({
      apps: () => config.apps,
      // Neither is asked anything: the app reads no env from etcd and the release is given.
      registry: {} as RegistryClient,
      etcd: {} as EtcdClient,
      hostIpOf: () => '127.0.0.1',
      serviceAddressOf: () => '172.17.0.1',
      defaultNode: 'local',
      extraLabels: { 'glint.test.suite': 'labels' },
    });
    const release = {
      imageRef: `127.0.0.1:5000/demo-app@sha256:${'a'.repeat(64)}`,
      version: '1.0.0',
      digest: `sha256:${'a'.repeat(64)}`,
      specHash: 'unused',
      env: { fingerprint: 'fp', readRevision: 0, values: {}, secretNames: [] },
    };
    const spec = await releases.specFor('web', release, 'a1b2c3', 'local');
    expect(spec.labels).toEqual({
      'com.example.team': 'payments',
      'glint.test': 'run-1',
      'glint.test.suite': 'labels',
    });
  });
});
