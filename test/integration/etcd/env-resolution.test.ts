import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigWatcher } from '../../../src/etcd/config-watcher.ts';
import { connectEtcd, type EtcdClient } from '../../../src/etcd/etcd-client.ts';
import { resolveAppEnv } from '../../../src/etcd/resolve-app-env.ts';
import { EtcdServiceRegistry } from '../../../src/etcd/service-registry.ts';
import { createLogger } from '../../../src/log/index.ts';
import { removeTestContainers } from '../../support/cleanup.ts';
import { type EtcdHandle, startEtcd } from '../../support/etcd-container.ts';
import { testRunId } from '../../support/labels.ts';
import { waitFor } from '../../support/wait-for.ts';

const SUITE = 'etcd-env';
let etcd: EtcdHandle;
let client: EtcdClient;

beforeAll(async () => {
  etcd = await startEtcd(SUITE);
  client = await connectEtcd({ endpoints: [etcd.endpoint], prefix: '/glint' });
});

afterAll(async () => {
  client?.close();
  await removeTestContainers({ runId: testRunId(), suite: SUITE });
});

const db = (instance: string, port: number) => ({
  app: 'db',
  instance,
  host: '127.0.0.1',
  port,
  version: '15',
  digest: 'sha256:db',
  startedAt: '2026-01-01T00:00:00.000Z',
});

describe('resolveAppEnv against a real etcd', () => {
  it('applies static env, then shared config, then app config, then secrets', async () => {
    await client.put('/glint/config/_shared/LOG_LEVEL', 'info');
    await client.put('/glint/config/_shared/REGION', 'eu');
    await client.put('/glint/config/web/LOG_LEVEL', 'debug');
    await client.put('/glint/config/web/FEATURE', 'on');
    await client.put('/glint/secrets/web/FEATURE', 'secret-on');
    await client.put('/glint/config/api/LOG_LEVEL', 'warn');

    const resolved = await resolveAppEnv(client, {
      app: 'web',
      frontends: new Map(),
      staticEnv: { PORT: '8080', REGION: 'us', LOG_LEVEL: 'error' },
    });
    expect(resolved.env).toEqual({ PORT: '8080', REGION: 'eu', LOG_LEVEL: 'debug', FEATURE: 'secret-on' });
    expect(resolved.secretNames).toEqual(['FEATURE']);
    const latest = (await client.get('/glint/config/api/LOG_LEVEL'))?.modRevision ?? 0;
    expect(resolved.revision).toBeGreaterThanOrEqual(latest);
  });

  it("expands a stable reference to the service's frontend, ready instances or not", async () => {
    await client.put('/glint/config/cart/DB_URL', 'pg://{{service:db}}/cart');
    const frontends = new Map([['db', 15432]]);
    const resolved = await resolveAppEnv(client, { app: 'cart', frontends });
    expect(resolved.env.DB_URL).toBe('pg://glint-lb:15432/cart');
    await expect(resolveAppEnv(client, { app: 'cart', frontends: new Map() })).rejects.toMatchObject({
      code: 'ServiceFrontendUnknown',
      message: expect.stringContaining('/glint/config/cart/DB_URL'),
      details: { service: 'db' },
    });
  });

  it('expands references to instances and fails clearly when none is ready', async () => {
    await client.put('/glint/config/shop/DB_HOSTS', '{{service:db.instances}}');
    await client.put('/glint/config/shop/DB_PRIMARY', 'pg://{{service:db.first}}/shop');
    await expect(resolveAppEnv(client, { app: 'shop', frontends: new Map() })).rejects.toMatchObject({
      code: 'ServiceReferenceUnresolved',
      message: expect.stringContaining('/glint/config/shop/DB_'),
      details: { service: 'db' },
    });

    const registry = new EtcdServiceRegistry(client, { ttlSeconds: 5 });
    await registry.register(db('db-2', 5432));
    await registry.register(db('db-1', 5431));
    const resolved = await resolveAppEnv(client, { app: 'shop', frontends: new Map() });
    expect(resolved.env.DB_HOSTS).toBe('127.0.0.1:5431,127.0.0.1:5432');
    expect(resolved.env.DB_PRIMARY).toBe('pg://127.0.0.1:5431/shop');
    expect(resolved.referencedServices).toEqual(['db']);
    await registry.close();
  });

  it('names the key of an invalid variable', async () => {
    await client.put('/glint/config/bad/not-a-name', 'x');
    await expect(resolveAppEnv(client, { app: 'bad', frontends: new Map() })).rejects.toMatchObject({
      code: 'InvalidVariableName',
      message: expect.stringContaining('/glint/config/bad/not-a-name'),
    });
  });

  it('keeps secret values out of the log stream while resolving and watching', async () => {
    const secretValue = 'pa55-w0rd-never-logged-4711';
    const rotated = 'pa55-w0rd-rotated-4712';
    const captured: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, done) {
        captured.push(String(chunk));
        done();
      },
    });
    const logger = createLogger({ destination, level: 'debug' });
    await client.put('/glint/secrets/vault/DB_PASSWORD', secretValue);

    const watcher = new ConfigWatcher(client, {
      apps: [{ name: 'vault' }],
      debounceMs: 100,
      frontends: () => new Map(),
      logger,
    });
    await watcher.start();
    const changed = new Promise((resolve) => watcher.once('change', resolve));
    const resolved = await resolveAppEnv(client, { app: 'vault', frontends: new Map() });
    logger.info({ resolved, env: resolved }, 'resolved env');
    logger.info({ description: resolved.describe() }, 'described env');
    await client.put('/glint/secrets/vault/DB_PASSWORD', rotated);
    const event = await changed;
    logger.info({ event }, 'change event');
    await watcher.stop();

    const text = captured.join('');
    expect(text).toContain('DB_PASSWORD');
    expect(text).toContain(resolved.fingerprint);
    expect(text).not.toContain(secretValue);
    expect(text).not.toContain(rotated);
    expect(JSON.stringify(event)).not.toContain(rotated);
    await waitFor(() => (captured.some((l) => l.includes('config changed')) ? true : undefined));
  });
});
