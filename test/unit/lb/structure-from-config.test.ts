import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../src/config/index.ts';
import { renderHaproxyConfig, structureFromConfig } from '../../../src/lb/index.ts';

function declared(extra: Record<string, unknown> = {}) {
  const result = validateConfig({
    haproxy: { runDir: '.glint/haproxy', sharedFrontend: '127.0.0.1:8000' },
    apps: {
      web: {
        image: 'demo',
        version: '1.0.0',
        instances: 2,
        port: 8080,
        health: { type: 'http', path: '/healthz', interval: '2s', timeout: '1s', healthyThreshold: 3 },
        strategy: { drainTimeout: '15s' },
        routing: { frontendPort: 8080, hosts: ['web.test'] },
      },
      worker: {
        image: 'demo',
        version: '1.0.0',
        instances: 1,
        port: 9000,
        health: { type: 'tcp' },
        routing: { hosts: ['worker.test'] },
      },
      ...extra,
    },
  });
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.config;
}

describe('structureFromConfig', () => {
  const structure = structureFromConfig(declared(), '/srv/glint');

  it('resolves the run folder against the working directory', () => {
    expect(structure.runDir).toBe('/srv/glint/.glint/haproxy');
  });

  it('gives an app its own frontend and its host names', () => {
    expect(structure.apps[0]).toMatchObject({
      name: 'web',
      frontend: { bind: '127.0.0.1:8080' },
      hosts: ['web.test'],
      drainTimeoutMs: 15_000,
      check: {
        path: '/healthz',
        intervalMs: 2_000,
        timeoutMs: 1_000,
        rise: 3,
        fall: 3,
        expectStatus: '200-399',
      },
    });
    expect(structure.sharedFrontend).toEqual({ bind: '127.0.0.1:8000' });
  });

  it('gives an http app an HTTP check on its path', () => {
    expect(structure.apps[0]?.check).toMatchObject({ type: 'http', path: '/healthz' });
  });

  it.each([
    { type: 'tcp', health: { type: 'tcp' } },
    { type: 'exec', health: { type: 'exec', command: ['true'] } },
    { type: 'docker', health: { type: 'docker' } },
  ])('gives a $type app a plain TCP check on its port, with its timing', ({ health }) => {
    const config = declared({
      probe: {
        image: 'demo',
        version: '1.0.0',
        instances: 1,
        port: 9100,
        health,
        routing: { hosts: ['p.test'] },
      },
    });
    const check = structureFromConfig(config, '/srv/glint').apps.find((a) => a.name === 'probe')?.check;
    expect(check).toEqual({ type: 'tcp', intervalMs: 1_000, timeoutMs: 1_000, rise: 2, fall: 3 });
    expect(structure.apps[1]?.frontend).toBeUndefined();
  });

  it('renders HTTP check lines for the http app only', () => {
    const text = renderHaproxyConfig({
      ...structure,
      apps: structure.apps.map((a) => ({ ...a, servers: [] })),
    });
    const backend = (name: string) => text.slice(text.indexOf(`\nbackend be_${name}\n`)).split('\n\n')[0]!;
    expect(backend('web')).toContain('option httpchk');
    expect(backend('worker')).not.toMatch(/httpchk|http-check/);
    expect(backend('worker')).toContain('timeout check 1s');
  });

  it('lists the service addresses sorted and once, and none when there are none', () => {
    const config = declared();
    expect(
      structureFromConfig(config, '/srv/glint', ['172.18.0.1', '172.17.0.1', '172.18.0.1']).serviceAddresses,
    ).toEqual(['172.17.0.1', '172.18.0.1']);
    expect(structureFromConfig(config, '/srv/glint')).not.toHaveProperty('serviceAddresses');
  });

  it('binds each app frontend on the service addresses too, so a change of them is structural', () => {
    const render = (addresses: string[]) => {
      const s = structureFromConfig(declared(), '/srv/glint', addresses);
      return renderHaproxyConfig({ ...s, apps: s.apps.map((a) => ({ ...a, servers: [] })) });
    };
    expect(render(['172.17.0.1'])).toContain('  bind 172.17.0.1:8080 transparent\n');
    expect(render(['172.17.0.1'])).not.toBe(render(['172.18.0.1']));
    expect(render([])).not.toContain('transparent');
  });

  it('renders to a config with a backend per app', () => {
    const text = renderHaproxyConfig({
      ...structure,
      apps: structure.apps.map((a) => ({ ...a, servers: [] })),
    });
    expect(text).toContain('backend be_web');
    expect(text).toContain('backend be_worker');
  });
});
