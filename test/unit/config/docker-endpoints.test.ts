import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../src/config/index.ts';

// biome-ignore lint/suspicious/noExplicitAny: rows poke arbitrary, deliberately wrong values into a plain object.
type Draft = Record<string, any>;

const tls = () => ({ ca: '/etc/glint/ca.pem', cert: '/etc/glint/cert.pem', key: '/etc/glint/key.pem' });

/** Two labelled engines and one app; each row changes a copy of it. */
function baseConfig(): Draft {
  return {
    docker: {
      endpoints: [
        { name: 'node-a', url: 'tcp://10.0.0.5:2376', tls: tls(), labels: { zone: 'eu-1', disk: 'ssd' } },
        { name: 'node-b', url: 'ssh://deploy@10.0.0.6', labels: { zone: 'eu-2' }, capacity: 20 },
      ],
    },
    apps: {
      web: {
        image: '127.0.0.1:5000/demo-app',
        version: '1.0.0',
        instances: 3,
        port: 8080,
        health: { type: 'http', path: '/healthz' },
        routing: { frontendPort: 8080 },
      },
    },
  };
}

function issuesOf(config: Draft) {
  const result = validateConfig(config);
  return result.ok ? [] : result.issues;
}

type Accepted = { name: string; change: (c: Draft) => void };

const accepted: Accepted[] = [
  { name: 'tcp:// with tls and ssh:// with a user', change: () => {} },
  {
    name: 'https:// with tls',
    change: (c) => {
      c.docker.endpoints[0].url = 'https://docker-a.example.com:2376';
    },
  },
  {
    name: 'tcp:// declared insecure (plain HTTP)',
    change: (c) => {
      c.docker.endpoints[0] = { name: 'node-a', url: 'tcp://10.0.0.5:2375', insecure: true };
    },
  },
  {
    name: 'http:// as before, plain by its scheme',
    change: (c) => {
      c.docker.endpoints[0] = { name: 'node-a', url: 'http://10.0.0.5:2375' };
    },
  },
  {
    name: 'ssh:// with a port',
    change: (c) => {
      c.docker.endpoints[1].url = 'ssh://deploy@10.0.0.6:2222';
    },
  },
  {
    name: 'instances reached at their container IP on one engine',
    change: (c) => {
      c.docker.endpoints[0].addressMode = 'container';
    },
  },
  {
    name: "an app in the host's network, with the host ports it may take",
    change: (c) => {
      c.apps.web.network = 'host';
      c.docker.endpoints[0].hostPorts = { min: 21000, max: 21999 };
    },
  },
  {
    name: 'constraints on labels and on the endpoint name, and a spread label',
    change: (c) => {
      c.apps.web.placement = { constraints: ['zone!=eu-3', 'name!=node-c'], spread: 'zone' };
    },
  },
];

type Refused = { name: string; change: (c: Draft) => void; path: string; says: RegExp };

const refused: Refused[] = [
  {
    name: 'plain tcp without tls or insecure',
    change: (c) => {
      delete c.docker.endpoints[0].tls;
    },
    path: 'docker.endpoints[0].tls',
    says: /tcp:\/\/ needs client certificates: set tls: \{ ca, cert, key \}.*or insecure: true/,
  },
  {
    name: 'https without tls or insecure',
    change: (c) => {
      c.docker.endpoints[0] = { name: 'node-a', url: 'https://10.0.0.5:2376' };
    },
    path: 'docker.endpoints[0].tls',
    says: /https:\/\/ needs client certificates/,
  },
  {
    name: 'tls and insecure together',
    change: (c) => {
      c.docker.endpoints[0].insecure = true;
    },
    path: 'docker.endpoints[0].insecure',
    says: /either tls or insecure/,
  },
  {
    name: 'tls on an ssh endpoint',
    change: (c) => {
      c.docker.endpoints[1].tls = tls();
    },
    path: 'docker.endpoints[1].tls',
    says: /tls applies to tcp:\/\/ and https:\/\/ endpoints only/,
  },
  {
    name: 'tls without its key',
    change: (c) => {
      delete c.docker.endpoints[0].tls.key;
    },
    path: 'docker.endpoints[0].tls.key',
    says: /./,
  },
  {
    name: 'an ssh url without a user',
    change: (c) => {
      c.docker.endpoints[1].url = 'ssh://10.0.0.6';
    },
    path: 'docker.endpoints[1].url',
    says: /an ssh endpoint names its user, e.g. 'ssh:\/\/deploy@10.0.0.6'/,
  },
  {
    name: 'a tcp url without a port',
    change: (c) => {
      c.docker.endpoints[0].url = 'tcp://10.0.0.5';
    },
    path: 'docker.endpoints[0].url',
    says: /names its port/,
  },
  {
    name: 'an unknown scheme',
    change: (c) => {
      c.docker.endpoints[0].url = 'ftp://10.0.0.5:21';
    },
    path: 'docker.endpoints[0].url',
    says: /scheme 'ftp:\/\/' is not supported; expected 'tcp:\/\/host:port'/,
  },
  {
    name: 'a url and a socket path together',
    change: (c) => {
      c.docker.endpoints[0].socketPath = '/var/run/docker.sock';
    },
    path: 'docker.endpoints[0].url',
    says: /either socketPath or url/,
  },
  {
    name: 'two endpoints of one name',
    change: (c) => {
      c.docker.endpoints[1].name = 'node-a';
    },
    path: 'docker.endpoints[1].name',
    says: /endpoint name 'node-a' is used twice/,
  },
  {
    name: 'an address mode glint does not know',
    change: (c) => {
      c.docker.endpoints[1].addressMode = 'bridge';
    },
    path: 'docker.endpoints[1].addressMode',
    says: /addressMode is 'host' \(a published port on hostIp\) or 'container' \(the container's IP\)/,
  },
  {
    name: 'a network glint does not know',
    change: (c) => {
      c.apps.web.network = 'overlay';
    },
    path: 'apps.web.network',
    says: /network is 'bridge' \(the default\) or 'host'/,
  },
  {
    name: 'a host port range upside down',
    change: (c) => {
      c.docker.endpoints[0].hostPorts = { min: 30000, max: 20000 };
    },
    path: 'docker.endpoints[0].hostPorts',
    says: /hostPorts.min must not be above hostPorts.max/,
  },
  {
    name: 'a capacity of zero',
    change: (c) => {
      c.docker.endpoints[1].capacity = 0;
    },
    path: 'docker.endpoints[1].capacity',
    says: /capacity must be above 0/,
  },
  {
    name: "a label called 'name', which constraints read as the endpoint's name",
    change: (c) => {
      c.docker.endpoints[0].labels.name = 'x';
    },
    path: 'docker.endpoints[0].labels.name',
    says: /'name' is the endpoint's own name/,
  },
  {
    name: 'a ping interval as long as the down period',
    change: (c) => {
      c.docker.pingInterval = '30s';
    },
    path: 'docker.pingInterval',
    says: /pingInterval must be shorter than nodeDownAfter/,
  },
  {
    name: 'a down period that is not a duration',
    change: (c) => {
      c.docker.nodeDownAfter = 'soon';
    },
    path: 'docker.nodeDownAfter',
    says: /invalid duration 'soon'/,
  },
  {
    name: 'a constraint outside the grammar',
    change: (c) => {
      c.apps.web.placement = { constraints: ['zone==eu-1'] };
    },
    path: 'apps.web.placement.constraints[0]',
    says: /'zone==eu-1' is not a constraint; write 'key=value' or 'key!=value'/,
  },
  {
    name: 'constraints no endpoint meets, naming the endpoints and their labels',
    change: (c) => {
      c.apps.web.placement = { constraints: ['zone=eu-2', 'disk=ssd'] };
    },
    path: 'apps.web.placement.constraints',
    says: /^no docker endpoint meets the constraints of app web: node-a has zone=eu-1, not zone=eu-2 \(labels: zone=eu-1, disk=ssd\); node-b has no label disk=ssd \(labels: zone=eu-2\); change the constraints or the endpoints' labels$/,
  },
  {
    name: 'a spread label no endpoint has',
    change: (c) => {
      c.apps.web.placement = { spread: 'zon' };
    },
    path: 'apps.web.placement.spread',
    says: /no docker endpoint has the label 'zon' to spread over \(node-a: zone=eu-1, disk=ssd; node-b: zone=eu-2\)/,
  },
  {
    name: 'a misspelt placement key',
    change: (c) => {
      c.apps.web.placement = { constraint: ['zone=eu-1'] };
    },
    path: 'apps.web.placement.constraint',
    says: /did you mean 'constraints'/,
  },
];

describe('the docker declaration', () => {
  it.each([
    {
      what: 'docker is not an object',
      change: (c: Draft) => {
        c.docker = 5;
      },
      path: 'docker',
    },
    {
      what: 'endpoints is not a list',
      change: (c: Draft) => {
        c.docker.endpoints = 'node-a';
      },
      path: 'docker.endpoints',
    },
    {
      what: 'an endpoint is not an object',
      change: (c: Draft) => {
        c.docker.endpoints[1] = 'node-b';
      },
      path: 'docker.endpoints[1]',
    },
    {
      what: 'labels is not an object',
      change: (c: Draft) => {
        c.docker.endpoints[1].labels = 'zone=eu-2';
      },
      path: 'docker.endpoints[1].labels',
    },
  ])('says only that $what, even with placement rules to check', (row) => {
    const config = baseConfig();
    config.apps.web.placement = { constraints: ['zone=eu-2'], spread: 'zone' };
    row.change(config);
    expect(issuesOf(config).map((i) => i.path)).toEqual([row.path]);
  });

  it('still checks placement when an endpoint has a mistake outside its labels', () => {
    const config = baseConfig();
    delete config.docker.endpoints[0].tls;
    config.apps.web.placement = { constraints: ['zone=eu-3'] };
    expect(issuesOf(config).map((i) => i.path)).toEqual([
      'docker.endpoints[0].tls',
      'apps.web.placement.constraints',
    ]);
  });

  it.each(accepted)('accepts $name', (row) => {
    const config = baseConfig();
    row.change(config);
    expect(issuesOf(config)).toEqual([]);
  });

  it.each(refused)('refuses $name at $path', (row) => {
    const config = baseConfig();
    row.change(config);
    const issues = issuesOf(config);
    const issue = issues.find((i) => i.path === row.path);
    expect(issue, `issues were: ${JSON.stringify(issues)}`).toBeDefined();
    expect(issue!.message).toMatch(row.says);
  });

  it('fills in the defaults: one local socket, node health timing, no placement rules', () => {
    const result = validateConfig({ apps: {} });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.docker).toEqual({
      endpoints: [
        {
          name: 'local',
          socketPath: '/var/run/docker.sock',
          insecure: false,
          labels: {},
          hostIp: '127.0.0.1',
          addressMode: 'host',
        },
      ],
      nodeDownAfter: 30_000,
      pingInterval: 5_000,
    });
    const app = validateConfig(baseConfig());
    expect(app.ok && app.config.apps.web!.placement).toEqual({ constraints: [] });
  });
});
