import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderHaproxyConfig } from '../../../src/lb/index.ts';
import { formatDuration, serverKeywords, serviceBinds } from '../../../src/lb/render-haproxy-config.ts';
import { goldenModels } from '../../fixtures/lb/golden-models.ts';

const goldenPath = (name: string) => new URL(`../../fixtures/lb/${name}.golden.cfg`, import.meta.url);
const base = goldenModels['one-app-dedicated-port']!;

describe('renderHaproxyConfig', () => {
  it.each(Object.keys(goldenModels))('renders %s exactly as its golden file', (name) => {
    const text = renderHaproxyConfig(goldenModels[name]!);
    // Regenerate after an intended change with UPDATE_GOLDEN=1, then review the diff.
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(goldenPath(name), text);
    expect(text).toBe(readFileSync(goldenPath(name), 'utf8'));
  });

  it('gives the same text whatever the order of apps and servers', () => {
    const shuffled = {
      ...base,
      apps: base.apps.map((a) => ({ ...a, servers: [...a.servers].reverse() })).reverse(),
    };
    expect(renderHaproxyConfig(shuffled)).toBe(renderHaproxyConfig(base));
  });

  it('writes a maint server as disabled and a draining one as a normal server', () => {
    const text = renderHaproxyConfig(base);
    expect(text).toMatch(/server web-c3 127\.0\.0\.1:32770 id 4 .* disabled$/m);
    expect(text).toMatch(
      /server web-b2 127\.0\.0\.1:32769 id 2 check inter 1s downinter 25ms rise 2 fall 2 weight 1$/m,
    );
  });

  it('keeps the zero-drop defaults: idle-close-on-response, retries, redispatch, retry-on', () => {
    const text = renderHaproxyConfig(base);
    for (const line of [
      'option idle-close-on-response',
      'retries 3',
      'option redispatch 1',
      'retry-on conn-failure empty-response',
      'load-server-state-from-file global',
      'http-request disable-l7-retry if METH_POST || { method PUT PATCH DELETE }',
      'hard-stop-after 30s',
    ])
      expect(text).toContain(`  ${line}\n`);
  });

  it('lets HAProxy resend writes only for an app that says they are idempotent', () => {
    const retrying = renderHaproxyConfig({ ...base, apps: [{ ...base.apps[0]!, retryWrites: true }] });
    expect(retrying).not.toContain('disable-l7-retry');
    expect(retrying).toContain('  retry-on conn-failure empty-response\n');
  });

  it('refuses a model it cannot render faithfully, naming the app and the field', () => {
    const bad = {
      ...base,
      apps: [{ ...base.apps[0]!, check: { ...base.apps[0]!.check, path: '/health z' } }],
    };
    expect(() => renderHaproxyConfig(bad)).toThrow(/app "web" check\.path/);
  });
});

describe('serviceBinds', () => {
  it.each([
    {
      name: 'one per service address',
      bind: '127.0.0.1:8080',
      addresses: ['172.17.0.1'],
      want: ['172.17.0.1:8080'],
    },
    {
      name: 'sorted, without duplicates',
      bind: '127.0.0.1:8080',
      addresses: ['172.18.0.1', '172.17.0.1', '172.18.0.1'],
      want: ['172.17.0.1:8080', '172.18.0.1:8080'],
    },
    {
      name: "not the bind's own address again",
      bind: '172.17.0.1:8080',
      addresses: ['172.17.0.1'],
      want: [],
    },
    {
      name: 'none when the bind takes every IPv4 address',
      bind: '0.0.0.0:8080',
      addresses: ['172.17.0.1'],
      want: [],
    },
    { name: 'none when the bind has no host', bind: ':8080', addresses: ['172.17.0.1'], want: [] },
    { name: 'none without service addresses', bind: '127.0.0.1:8080', addresses: [], want: [] },
  ])('$name', ({ bind, addresses, want }) => {
    expect(serviceBinds(bind, addresses)).toEqual(want);
  });

  it('refuses a service address that is not an IPv4 address', () => {
    expect(() => renderHaproxyConfig({ ...base, serviceAddresses: ['glint-lb'] })).toThrow(
      /serviceAddresses: "glint-lb" is not an IPv4 address/,
    );
  });
});

describe('formatDuration', () => {
  it.each([
    { ms: 2_000, want: '2s' },
    { ms: 1_500, want: '1500ms' },
    { ms: 250, want: '250ms' },
    { ms: 60_000, want: '60s' },
  ])('formats $ms ms as $want', ({ ms, want }) => expect(formatDuration(ms)).toBe(want));
});

describe('serverKeywords', () => {
  it('spells out check, inter, rise, fall and weight for runtime-added servers', () => {
    expect(
      serverKeywords({
        type: 'http' as const,
        path: '/',
        intervalMs: 500,
        rise: 3,
        fall: 1,
        timeoutMs: 1000,
      }),
    ).toEqual(['check', 'inter', '500ms', 'downinter', '25ms', 'rise', '3', 'fall', '1', 'weight', '1']);
  });
});
