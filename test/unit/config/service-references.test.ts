import { describe, expect, it } from 'vitest';
import {
  findServiceReferences,
  type GlintConfigInput,
  serviceFrontendsOf,
  validateConfig,
} from '../../../src/config/index.ts';

/** web calls api through its frontend; cron has no frontend of its own (host routing only). */
function declaration(
  webEnv: Record<string, string>,
  endpoint: Record<string, unknown> = {},
): GlintConfigInput {
  const app = {
    image: '127.0.0.1:5000/demo-app',
    version: '1.0.0',
    instances: 1,
    port: 8080,
    health: { type: 'http', path: '/healthz' },
  } as const;
  return {
    docker: { endpoints: [{ name: 'local', socketPath: '/var/run/docker.sock', ...endpoint }] },
    haproxy: { sharedFrontend: '127.0.0.1:8000' },
    apps: {
      web: { ...app, env: webEnv, routing: { frontendPort: 18001 } },
      api: { ...app, routing: { frontendPort: 18002 } },
      cron: { ...app, routing: { hosts: ['cron.example.com'] } },
    },
  };
}

type Accepted = { name: string; env: Record<string, string> };
const accepted: Accepted[] = [
  {
    name: 'a stable reference to an app with a frontend port',
    env: { UPSTREAM_URL: 'http://{{service:api}}/' },
  },
  { name: 'spaces inside the braces', env: { UPSTREAM_URL: 'http://{{ service:api }}/' } },
  { name: 'the instances of an app without a frontend port', env: { CRON: '{{service:cron.instances}}' } },
  { name: '.first of an app without a frontend port', env: { CRON: '{{service:cron.first}}' } },
  { name: 'the instances of a service glint does not declare', env: { X: '{{service:legacy.instances}}' } },
  { name: 'a reference to the app itself', env: { SELF: '{{service:web}}' } },
];

type Refused = { name: string; env: Record<string, string>; path: string; says: RegExp[] };
const refused: Refused[] = [
  {
    name: 'a stable reference to an undeclared app',
    env: { UPSTREAM_URL: 'http://{{service:apii}}/' },
    path: 'apps.web.env.UPSTREAM_URL',
    says: [/\{\{service:apii\}\} names no declared app/, /declare apii under apps/],
  },
  {
    name: 'a stable reference to an app without a frontend port',
    env: { CRON_URL: 'http://{{service:cron}}/' },
    path: 'apps.web.env.CRON_URL',
    says: [/set apps\.cron\.routing\.frontendPort/, /use \{\{service:cron\.instances\}\}/],
  },
  {
    name: 'an unknown form',
    env: { X: '{{service:api.all}}' },
    path: 'apps.web.env.X',
    says: [/"\{\{service:api\.all\}\}" is not a service reference/, /\{\{service:NAME\.instances\}\}/],
  },
  {
    name: 'an empty name',
    env: { X: '{{service:}}' },
    path: 'apps.web.env.X',
    says: [/is not a service reference/],
  },
];

describe('glint config check and service references in static env', () => {
  it.each(accepted)('accepts $name', (row) => {
    const result = validateConfig(declaration(row.env));
    expect(result.ok, JSON.stringify(result.ok ? [] : result.issues)).toBe(true);
  });

  it.each(refused)('refuses $name at its field, naming the fix', (row) => {
    const result = validateConfig(declaration(row.env));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const issue = result.issues.find((i) => i.path === row.path);
    expect(issue, JSON.stringify(result.issues)).toBeDefined();
    for (const text of row.says) expect(issue!.message).toMatch(text);
  });

  it('reports a reference to an app whose frontend port is itself broken only at that port', () => {
    const config = declaration({ UPSTREAM_URL: 'http://{{service:api}}/' });
    (config.apps.api!.routing as { frontendPort: number }).frontendPort = 70_000;
    const result = validateConfig(config);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => i.path)).toEqual(['apps.api.routing.frontendPort']);
  });
});

describe('docker.endpoints[].serviceAddress', () => {
  it('is optional and kept when given', () => {
    const none = validateConfig(declaration({}));
    const given = validateConfig(declaration({}, { serviceAddress: '172.18.0.1' }));
    expect(none.ok && none.config.docker.endpoints[0]?.serviceAddress).toBeUndefined();
    expect(given.ok && given.config.docker.endpoints[0]?.serviceAddress).toBe('172.18.0.1');
  });

  it.each([
    { value: '127.0.0.1', says: /container's own loopback/ },
    { value: 'glint-lb', says: /./ },
    { value: '172.17.0.300', says: /./ },
  ])('refuses $value', ({ value, says }) => {
    const result = validateConfig(declaration({}, { serviceAddress: value }));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const issue = result.issues.find((i) => i.path === 'docker.endpoints[0].serviceAddress');
    expect(issue, JSON.stringify(result.issues)).toBeDefined();
    expect(issue!.message).toMatch(says);
  });
});

describe('findServiceReferences', () => {
  it.each([
    { value: 'no references', references: [], malformed: [] },
    {
      value: 'http://{{service:api}}/x',
      references: [{ service: 'api', form: 'stable', text: '{{service:api}}' }],
      malformed: [],
    },
    {
      value: '{{service:db.instances}},{{ service:db.first }}',
      references: [
        { service: 'db', form: 'instances', text: '{{service:db.instances}}' },
        { service: 'db', form: 'first', text: '{{ service:db.first }}' },
      ],
      malformed: [],
    },
    {
      value: '{{service:db.last}} {{service:-x}}',
      references: [],
      malformed: ['{{service:db.last}}', '{{service:-x}}'],
    },
  ])('$value', ({ value, references, malformed }) => {
    expect(findServiceReferences(value)).toEqual({ references, malformed });
  });

  it('serviceFrontendsOf maps every app to its frontend port or undefined', () => {
    const result = validateConfig(declaration({}));
    if (!result.ok) throw new Error('declaration invalid');
    expect([...serviceFrontendsOf(result.config.apps)]).toEqual([
      ['web', 18001],
      ['api', 18002],
      ['cron', undefined],
    ]);
  });
});
