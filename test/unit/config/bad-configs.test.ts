import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../src/config/index.ts';

// biome-ignore lint/suspicious/noExplicitAny: rows poke arbitrary, deliberately wrong values into a plain object.
type Draft = Record<string, any>;

/** A valid declaration; each row below breaks exactly one thing in a copy of it. */
function baseConfig(): Draft {
  return {
    etcd: { endpoints: ['http://127.0.0.1:2379'], prefix: '/glint' },
    registries: { '127.0.0.1:5000': { insecure: true } },
    api: { listen: '127.0.0.1:7070' },
    apps: {
      web: {
        image: '127.0.0.1:5000/demo-app',
        version: '1.0.0',
        instances: 3,
        port: 8080,
        health: { type: 'http', path: '/healthz' },
        routing: { frontendPort: 8080 },
      },
      api: {
        image: '127.0.0.1:5000/demo-app',
        version: '1.0.0',
        instances: 2,
        port: 8080,
        health: { type: 'http', path: '/healthz' },
        routing: { frontendPort: 8081 },
      },
    },
  };
}

type Row = { name: string; breakIt: (c: Draft) => void; path: string; says: RegExp };

const rows: Row[] = [
  {
    name: 'privileged mode asked for under security',
    breakIt: (c) => {
      c.apps.web.security = { privileged: true };
    },
    path: 'apps.web.security.privileged',
    says: /unknown key 'privileged'/,
  },
  {
    name: 'a capability in lower case',
    breakIt: (c) => {
      c.apps.web.security = { capAdd: ['net_bind_service'] };
    },
    path: 'apps.web.security.capAdd[0]',
    says: /NET_BIND_SERVICE/,
  },
  {
    name: 'a user with a shell in it',
    breakIt: (c) => {
      c.apps.web.security = { user: 'root; rm -rf /' };
    },
    path: 'apps.web.security.user',
    says: /expected a user such as '1000'/,
  },
  {
    name: 'unknown top-level key',
    breakIt: (c) => {
      c.dockr = {};
    },
    path: 'dockr',
    says: /unknown key 'dockr'; did you mean 'docker'/,
  },
  {
    name: 'misspelt strategy key',
    breakIt: (c) => {
      c.apps.web.strategy = { maxSurg: 2 };
    },
    path: 'apps.web.strategy.maxSurg',
    says: /did you mean 'maxSurge'/,
  },
  {
    name: 'unknown key inside health',
    breakIt: (c) => {
      c.apps.web.health.pth = '/x';
    },
    path: 'apps.web.health.pth',
    says: /unknown key 'pth'/,
  },
  {
    name: 'no surge and no unavailability',
    breakIt: (c) => {
      c.apps.web.strategy = { maxSurge: 0, maxUnavailable: 0 };
    },
    path: 'apps.web.strategy',
    says: /both 0.*maxSurge: 1/,
  },
  {
    name: 'duration without unit',
    breakIt: (c) => {
      c.apps.web.strategy = { minHealthyTime: '30' };
    },
    path: 'apps.web.strategy.minHealthyTime',
    says: /invalid duration '30'/,
  },
  {
    name: 'duration in words',
    breakIt: (c) => {
      c.apps.web.health.interval = 'five seconds';
    },
    path: 'apps.web.health.interval',
    says: /invalid duration/,
  },
  {
    name: 'duration as a number',
    breakIt: (c) => {
      c.apps.web.strategy = { drainTimeout: 30 };
    },
    path: 'apps.web.strategy.drainTimeout',
    says: /expected a duration string/,
  },
  {
    name: 'cron with a minute out of range',
    breakIt: (c) => {
      c.apps.web.rotation = { cron: '61 * * * *' };
    },
    path: 'apps.web.rotation.cron',
    says: /invalid cron expression '61 \* \* \* \*'/,
  },
  {
    name: 'cron with too few fields',
    breakIt: (c) => {
      c.apps.web.rotation = { cron: '0 3 * *' };
    },
    path: 'apps.web.rotation.cron',
    says: /expected 5 fields/,
  },
  {
    name: 'unknown time zone',
    breakIt: (c) => {
      c.apps.web.rotation = { cron: '0 3 * * *', timezone: 'Mars/Olympus' };
    },
    path: 'apps.web.rotation.timezone',
    says: /unknown time zone/,
  },
  {
    name: 'two apps on one frontend port',
    breakIt: (c) => {
      c.apps.api.routing.frontendPort = 8080;
    },
    path: 'apps.api.routing.frontendPort',
    says: /port 8080 is already used by apps\.web/,
  },
  {
    name: 'frontend port clashing with the API',
    breakIt: (c) => {
      c.apps.api.routing.frontendPort = 7070;
    },
    path: 'apps.api.routing.frontendPort',
    says: /already used by api\.listen/,
  },
  {
    name: 'one host routed to two apps',
    breakIt: (c) => {
      c.haproxy = { sharedFrontend: '127.0.0.1:8000' };
      c.apps.web.routing.hosts = ['a.test'];
      c.apps.api.routing.hosts = ['A.test'];
    },
    path: 'apps.api.routing.hosts[0]',
    says: /already routed to app 'web'/,
  },
  {
    name: 'host routing without a shared frontend',
    breakIt: (c) => {
      c.apps.web.routing.hosts = ['web.test'];
    },
    path: 'apps.web.routing.hosts',
    says: /set haproxy\.sharedFrontend/,
  },
  {
    name: 'an app with no way in through HAProxy',
    breakIt: (c) => {
      c.apps.web.routing = {};
    },
    path: 'apps.web.routing',
    says: /set routing\.frontendPort .* or routing\.hosts/,
  },
  {
    name: 'image with a tag',
    breakIt: (c) => {
      c.apps.web.image = '127.0.0.1:5000/demo-app:1.0.0';
    },
    path: 'apps.web.image',
    says: /put the version in 'version'/,
  },
  {
    name: 'version that is not semver',
    breakIt: (c) => {
      c.apps.web.version = 'one';
    },
    path: 'apps.web.version',
    says: /semver version/,
  },
  {
    name: 'negative instances',
    breakIt: (c) => {
      c.apps.web.instances = -1;
    },
    path: 'apps.web.instances',
    says: /./,
  },
  {
    name: 'fractional instances',
    breakIt: (c) => {
      c.apps.web.instances = 2.5;
    },
    path: 'apps.web.instances',
    says: /whole number/,
  },
  {
    name: 'container port out of range',
    breakIt: (c) => {
      c.apps.web.port = 70000;
    },
    path: 'apps.web.port',
    says: /65535/,
  },
  {
    name: 'unknown health type',
    breakIt: (c) => {
      c.apps.web.health = { type: 'grpc' };
    },
    path: 'apps.web.health.type',
    says: /one of 'http', 'tcp', 'exec', 'docker'/,
  },
  {
    name: 'HTTP health path without slash',
    breakIt: (c) => {
      c.apps.web.health.path = 'healthz';
    },
    path: 'apps.web.health.path',
    says: /starts with '\/'/,
  },
  {
    name: 'health timeout longer than the interval',
    breakIt: (c) => {
      c.apps.web.health.interval = '1s';
      c.apps.web.health.timeout = '2s';
    },
    path: 'apps.web.health.timeout',
    says: /must not exceed the interval/,
  },
  {
    name: 'zero healthy threshold',
    breakIt: (c) => {
      c.apps.web.health.healthyThreshold = 0;
    },
    path: 'apps.web.health.healthyThreshold',
    says: /./,
  },
  {
    name: 'exec health without a command',
    breakIt: (c) => {
      c.apps.web.health = { type: 'exec', command: [] };
    },
    path: 'apps.web.health.command',
    says: /./,
  },
  {
    name: 'budget percentage written badly',
    breakIt: (c) => {
      c.apps.web.strategy = { maxSurge: '25 percent' };
    },
    path: 'apps.web.strategy.maxSurge',
    says: /percentage of instances/,
  },
  {
    name: 'more canaries than instances',
    breakIt: (c) => {
      c.apps.web.strategy = { canary: 5 };
    },
    path: 'apps.web.strategy.canary',
    says: /more than the app's 3 instances/,
  },
  {
    name: 'minHealthyTime not below healthyDeadline',
    breakIt: (c) => {
      c.apps.web.strategy = { minHealthyTime: '2m', healthyDeadline: '1m' };
    },
    path: 'apps.web.strategy.minHealthyTime',
    says: /shorter than healthyDeadline/,
  },
  {
    name: 'progress deadline shorter than one instance deadline',
    breakIt: (c) => {
      c.apps.web.strategy = { healthyDeadline: '5m', progressDeadline: '1m' };
    },
    path: 'apps.web.strategy.progressDeadline',
    says: /at least healthyDeadline/,
  },
  {
    name: 'autoPromoteAfter without canaries',
    breakIt: (c) => {
      c.apps.web.strategy = { autoPromoteAfter: '5m' };
    },
    path: 'apps.web.strategy.autoPromoteAfter',
    says: /strategy\.canary above 0/,
  },
  {
    name: 'unknown failure policy',
    breakIt: (c) => {
      c.apps.web.strategy = { onFailure: 'retry' };
    },
    path: 'apps.web.strategy.onFailure',
    says: /./,
  },
  {
    name: 'maxAge too short',
    breakIt: (c) => {
      c.apps.web.rotation = { maxAge: '10s' };
    },
    path: 'apps.web.rotation.maxAge',
    says: /at least '1m'/,
  },
  {
    name: 'memory limit without a unit Docker accepts',
    breakIt: (c) => {
      c.apps.web.resources = { memory: 'lots' };
    },
    path: 'apps.web.resources.memory',
    says: /invalid memory size 'lots'/,
  },
  {
    name: 'zero cpus',
    breakIt: (c) => {
      c.apps.web.resources = { cpus: 0 };
    },
    path: 'apps.web.resources.cpus',
    says: /above 0/,
  },
  {
    name: 'bad environment variable name',
    breakIt: (c) => {
      c.apps.web.env = { '1BAD': 'x' };
    },
    path: 'apps.web.env.1BAD',
    says: /variable names/,
  },
  {
    name: "a label that is one of glint's own",
    breakIt: (c) => {
      c.apps.web.labels = { 'glint.spec': 'forged' };
    },
    path: 'apps.web.labels.glint.spec',
    says: /glint's own and cannot be set/,
  },
  {
    name: 'a label key with a space',
    breakIt: (c) => {
      c.apps.web.labels = { 'my team': 'a' };
    },
    path: 'apps.web.labels.my team',
    says: /label keys are letters/,
  },
  {
    name: 'app name with capitals',
    breakIt: (c) => {
      c.apps.Web = c.apps.web;
      delete c.apps.web;
    },
    path: 'apps.Web',
    says: /lowercase/,
  },
  {
    name: 'API listen address without port',
    breakIt: (c) => {
      c.api.listen = '127.0.0.1';
    },
    path: 'api.listen',
    says: /host:port/,
  },
  {
    name: 'etcd endpoint that is not a URL',
    breakIt: (c) => {
      c.etcd.endpoints = ['127.0.0.1:2379'];
    },
    path: 'etcd.endpoints[0]',
    says: /./,
  },
  {
    name: 'etcd prefix with trailing slash',
    breakIt: (c) => {
      c.etcd.prefix = '/glint/';
    },
    path: 'etcd.prefix',
    says: /no trailing/,
  },
  {
    name: 'registry password written in the file',
    breakIt: (c) => {
      c.registries['127.0.0.1:5000'].password = 'hunter2';
    },
    path: 'registries.127.0.0.1:5000.password',
    says: /fromEnv/,
  },
  {
    name: 'API token written in the file',
    breakIt: (c) => {
      c.api.tokens = [{ name: 'ci', role: 'deploy', token: 'abc' }];
    },
    path: 'api.tokens[0].token',
    says: /never written in the config/,
  },
  {
    name: 'unknown token role',
    breakIt: (c) => {
      c.api.tokens = [{ name: 'ci', role: 'root', token: { fromEnv: 'CI_TOKEN' } }];
    },
    path: 'api.tokens[0].role',
    says: /./,
  },
  {
    name: 'missing apps',
    breakIt: (c) => {
      delete c.apps;
    },
    path: 'apps',
    says: /./,
  },
];

describe('validateConfig rejects broken declarations at the field that is wrong', () => {
  it('accepts the unbroken base declaration', () => {
    expect(validateConfig(baseConfig()).ok).toBe(true);
  });

  it.each(rows)('$name → $path', (row) => {
    const config = baseConfig();
    row.breakIt(config);
    const result = validateConfig(config);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const issue = result.issues.find((i) => i.path === row.path);
    expect(issue, `issues were: ${JSON.stringify(result.issues)}`).toBeDefined();
    expect(issue!.message).toMatch(row.says);
  });

  it('holds at least 25 broken declarations', () => {
    expect(rows.length).toBeGreaterThanOrEqual(25);
  });
});

type OneProblemRow = { name: string; breakIt: (c: Draft) => void; paths: string[] };

/** Each row breaks one field that a cross-field rule also reads: the user gets that field's message only. */
const oneProblemRows: OneProblemRow[] = [
  {
    name: 'negative instances do not also fail the canary rule',
    breakIt: (c) => {
      c.apps.web.instances = -1;
    },
    paths: ['apps.web.instances'],
  },
  {
    name: 'an out-of-range frontend port is not also reported as a clash',
    breakIt: (c) => {
      c.apps.web.routing.frontendPort = 70000;
      c.apps.api.routing.frontendPort = 70000;
    },
    paths: ['apps.web.routing.frontendPort', 'apps.api.routing.frontendPort'],
  },
  {
    name: 'a misspelt strategy key still leaves the other cross-field rules running',
    breakIt: (c) => {
      c.apps.web.strategy = { canaary: 1, canary: 5 };
    },
    paths: ['apps.web.strategy.canaary', 'apps.web.strategy.canary'],
  },
];

describe('validateConfig says one thing per problem', () => {
  it.each(oneProblemRows)('$name', (row) => {
    const config = baseConfig();
    row.breakIt(config);
    const result = validateConfig(config);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => i.path)).toEqual(row.paths);
  });
});
