import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../src/config/index.ts';
import type { RegistryClient } from '../../../src/docker/index.ts';
import {
  type EtcdClient,
  etcdKeys,
  type Release,
  type TxnRequest,
  type TxnResult,
} from '../../../src/etcd/index.ts';
import { AppReleases } from '../../../src/rollout/index.ts';

/** web takes no config from etcd; its static env reaches api through api's frontend or instances. */
function apps(webEnv: Record<string, string>) {
  const app = {
    image: '127.0.0.1:5000/demo-app',
    version: '1.0.0',
    instances: 1,
    port: 8080,
    health: { type: 'http', path: '/healthz' },
  } as const;
  const parsed = validateConfig({
    apps: {
      web: { ...app, etcdConfig: false, env: webEnv, routing: { frontendPort: 18001 } },
      api: { ...app, routing: { frontendPort: 18002 } },
    },
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.config.apps;
}

/** An etcd client that answers the env read with api's registered instances and counts reads. */
function registryEtcd(instances: Array<{ instance: string; port: number }>) {
  const keys = etcdKeys('/glint');
  const reads: TxnRequest[] = [];
  const kvs = instances.map((i) => ({
    key: `${keys.servicesRoot()}api/${i.instance}`,
    value: JSON.stringify({
      app: 'api',
      instance: i.instance,
      host: '127.0.0.1',
      port: i.port,
      version: '1.0.0',
      digest: 'sha256:x',
      startedAt: '2026-01-01T00:00:00.000Z',
    }),
    modRevision: 5,
    createRevision: 5,
    version: 1,
    lease: '0',
  }));
  const client = {
    keys,
    txn: async (req: TxnRequest): Promise<TxnResult> => {
      reads.push(req);
      return {
        succeeded: true,
        revision: 9,
        responses: req.success.map((op) => ({
          kvs: op.type === 'get' && op.key === keys.servicesRoot() ? kvs : [],
        })),
      } as TxnResult;
    },
  } as unknown as EtcdClient;
  return { client, reads };
}

const image = {
  imageRef: `127.0.0.1:5000/demo-app@sha256:${'a'.repeat(64)}`,
  version: '1.0.0',
  digest: `sha256:${'a'.repeat(64)}`,
};
const placeholder: Release = {
  ...image,
  specHash: '',
  env: { fingerprint: '', readRevision: 0, values: {}, secretNames: [] },
};

function releases(env: Record<string, string>, etcd: EtcdClient, serviceAddress = '172.17.0.1') {
  return new AppReleases({
    apps: () => apps(env),
    registry: {} as RegistryClient,
    etcd,
    hostIpOf: () => '127.0.0.1',
    serviceAddressOf: () => serviceAddress,
    defaultNode: 'local',
  });
}

describe('AppReleases and service references', () => {
  it('expands a stable reference in static env without reading etcd, and gives the spec the service address', async () => {
    const { client, reads } = registryEtcd([]);
    const r = releases({ UPSTREAM_URL: 'http://{{service:api}}/' }, client);
    const release = await r.refresh('web', placeholder);
    expect(release.env.values).toEqual({ UPSTREAM_URL: 'http://glint-lb:18002/' });
    expect(reads).toHaveLength(0);
    const spec = await r.specFor('web', release, 'a1', 'local');
    expect(spec.serviceAddress).toBe('172.17.0.1');
    expect(spec.env.UPSTREAM_URL).toBe('http://glint-lb:18002/');
  });

  it("reads the registry for a reference to a service's instances", async () => {
    const { client, reads } = registryEtcd([
      { instance: 'b', port: 40002 },
      { instance: 'a', port: 40001 },
    ]);
    const release = await releases({ PEERS: '{{service:api.instances}}' }, client).refresh(
      'web',
      placeholder,
    );
    expect(release.env.values).toEqual({ PEERS: '127.0.0.1:40001,127.0.0.1:40002' });
    expect(release.env.readRevision).toBe(9);
    expect(reads).toHaveLength(1);
  });

  it('gives each engine its own service address, and one release one spec hash on every engine', async () => {
    const { client } = registryEtcd([]);
    const one = await releases({}, client, '172.17.0.1').refresh('web', placeholder);
    const other = await releases({}, client, '172.18.0.1').refresh('web', placeholder);
    expect(one.specHash).toBe(other.specHash);
    const there = await releases({}, client, '172.18.0.1').specFor('web', other, 'a1', 'local');
    expect(there.serviceAddress).toBe('172.18.0.1');
  });
});
