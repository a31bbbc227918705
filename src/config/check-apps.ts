import type { z } from 'zod';
import { constraintMismatch, type LabelledEngine, parseConstraint } from '../placement/index.ts';
import type { AppConfig } from './app-schema.ts';
import {
  findServiceReferences,
  SERVICE_REFERENCE_FORMS,
  type ServiceFrontends,
  ServiceReferenceForm,
  serviceFrontendsOf,
  stableReferenceProblem,
} from './service-reference.ts';

type Draft = {
  apps: Record<string, AppConfig>;
  api: { listen: string };
  haproxy: { sharedFrontend?: string | undefined };
  /** Absent or malformed when the docker section failed its own schema. */
  docker?: { endpoints?: readonly LabelledEngine[] };
};

type Path = readonly (string | number)[];
type At = (...rest: (string | number)[]) => Path;

/**
 * Adds a cross-field issue unless a field it involves already has one: with `instances: -1`
 * the user reads one message about instances, not a second one about a canary measured
 * against -1. One problem, one message.
 */
type Report = (involves: Path[], issue: { path: Path; message: string }) => void;

/**
 * Rules that span fields or apps: impossible strategies, health timing, port and host clashes,
 * service references in static env, placements no endpoint can take.
 */
export function checkApps(config: Draft, ctx: z.RefinementCtx): void {
  const report = reporterFor(ctx);
  const frontends = serviceFrontendsOf(config.apps);
  const ports = new Map<number, Path>();
  const apiPort = Number(config.api.listen.split(':')[1]);
  ports.set(apiPort, ['api', 'listen']);
  if (config.haproxy.sharedFrontend)
    ports.set(Number(config.haproxy.sharedFrontend.split(':')[1]), ['haproxy', 'sharedFrontend']);
  const hosts = new Map<string, string>();
  const endpoints = labelledEndpoints(config.docker?.endpoints);

  for (const [name, app] of Object.entries(config.apps)) {
    const at: At = (...rest) => ['apps', name, ...rest];
    checkStrategy(app, at, report);
    checkTiming(app, at, report);
    checkServiceReferences(app, at, frontends, report);
    if (endpoints) checkPlacement(name, app, at, endpoints, report);

    const frontendPort = app.routing.frontendPort;
    if (frontendPort !== undefined) {
      const owner = ports.get(frontendPort);
      const path = at('routing', 'frontendPort');
      if (owner) {
        report([path, owner], {
          path,
          message: `port ${frontendPort} is already used by ${owner.join('.')}; give each app its own frontend port`,
        });
      } else ports.set(frontendPort, path);
    }
    app.routing.hosts.forEach((host, i) => {
      const owner = hosts.get(host.toLowerCase());
      const path = at('routing', 'hosts', i);
      if (owner) {
        report([path], {
          path,
          message: `host '${host}' is already routed to app '${owner}'; a host name can route to one app only`,
        });
      } else hosts.set(host.toLowerCase(), name);
    });
    if (frontendPort === undefined && app.routing.hosts.length === 0) {
      report([at('routing')], {
        path: at('routing'),
        message:
          'the app has no way in through HAProxy: set routing.frontendPort (a port of its own, e.g. 8080) or routing.hosts (host names on haproxy.sharedFrontend)',
      });
    }
    if (app.routing.hosts.length > 0 && !config.haproxy.sharedFrontend) {
      report([at('routing', 'hosts'), ['haproxy', 'sharedFrontend']], {
        path: at('routing', 'hosts'),
        message:
          "routing by host name needs a shared frontend: set haproxy.sharedFrontend, e.g. '127.0.0.1:80'",
      });
    }
  }
}

function checkStrategy(app: AppConfig, at: At, report: Report) {
  const s = app.strategy;
  const field = (key: keyof AppConfig['strategy']) => at('strategy', key);
  if (s.maxSurge === 0 && s.maxUnavailable === 0) {
    report([field('maxSurge'), field('maxUnavailable')], {
      path: at('strategy'),
      message:
        'maxSurge and maxUnavailable are both 0, so no instance could ever be replaced; set maxSurge: 1 (start a new instance before stopping an old one) or maxUnavailable: 1',
    });
  }
  // Percentages that both round to 0 are allowed: as in Kubernetes, one instance may then be
  // unavailable, and the planner has to resolve budgets the same way.
  if (s.canary > app.instances) {
    report([field('canary'), at('instances')], {
      path: field('canary'),
      message: `canary ${s.canary} is more than the app's ${app.instances} instances; use at most ${app.instances}`,
    });
  }
  if (s.minHealthyTime >= s.healthyDeadline) {
    report([field('minHealthyTime'), field('healthyDeadline')], {
      path: field('minHealthyTime'),
      message:
        'minHealthyTime must be shorter than healthyDeadline, otherwise no instance can ever become ready in time',
    });
  }
  if (s.healthyDeadline > s.progressDeadline) {
    report([field('healthyDeadline'), field('progressDeadline')], {
      path: field('progressDeadline'),
      message:
        'progressDeadline must be at least healthyDeadline, or every slow start fails the whole deployment',
    });
  }
  if (s.autoPromoteAfter !== undefined && s.canary === 0) {
    report([field('autoPromoteAfter'), field('canary')], {
      path: field('autoPromoteAfter'),
      message:
        'autoPromoteAfter only applies to canaries; set strategy.canary above 0 or remove autoPromoteAfter',
    });
  }
}

function checkTiming(app: AppConfig, at: At, report: Report) {
  if (app.health.timeout > app.health.interval) {
    report([at('health', 'timeout'), at('health', 'interval')], {
      path: at('health', 'timeout'),
      message: 'health timeout must not exceed the interval between checks; lower timeout or raise interval',
    });
  }
  const r = app.rotation;
  if (r.maxAge !== undefined && r.maxAge < 60_000) {
    report([at('rotation', 'maxAge')], {
      path: at('rotation', 'maxAge'),
      message: "maxAge under 1m would replace instances constantly; use at least '1m'",
    });
  }
}

/** Static env is checked here, with its field path; etcd values are checked when they are resolved. */
function checkServiceReferences(app: AppConfig, at: At, frontends: ServiceFrontends, report: Report) {
  for (const [name, value] of Object.entries(app.env)) {
    const path = at('env', name);
    const { references, malformed } = findServiceReferences(value);
    for (const text of malformed)
      report([path], {
        path,
        message: `"${text}" is not a service reference; write ${SERVICE_REFERENCE_FORMS}`,
      });
    for (const ref of references) {
      if (ref.form !== ServiceReferenceForm.Stable) continue;
      const problem = stableReferenceProblem(ref.service, frontends);
      const theirs = ['apps', ref.service, 'routing', 'frontendPort'];
      if (problem) report([path, theirs], { path, message: problem });
    }
  }
}

/**
 * An app whose constraints no endpoint meets could never start an instance; a spread label no
 * endpoint has is a typo (every instance would land in the one group of unlabelled endpoints).
 */
function checkPlacement(
  name: string,
  app: AppConfig,
  at: At,
  endpoints: readonly LabelledEngine[],
  report: Report,
) {
  const constraints = app.placement.constraints.map(parseConstraint);
  if (constraints.some((c) => c === undefined)) return;
  const path = at('placement', 'constraints');
  // Only the endpoints' names and labels matter here: a tls mistake does not hide this one.
  const labelPaths = endpoints.flatMap((_, i) => [
    ['docker', 'endpoints', i, 'name'],
    ['docker', 'endpoints', i, 'labels'],
  ]);
  const fits = endpoints.some((e) => constraints.every((c) => constraintMismatch(e, c!) === undefined));
  if (!fits && endpoints.length > 0) {
    const why = endpoints.map((e) => {
      const misses = constraints.map((c) => constraintMismatch(e, c!)).filter((m) => m !== undefined);
      return `${e.name} ${misses.join(' and ')} (labels: ${labelList(e)})`;
    });
    report([path, ...labelPaths], {
      path,
      message: `no docker endpoint meets the constraints of app ${name}: ${why.join('; ')}; change the constraints or the endpoints' labels`,
    });
  }
  const spread = app.placement.spread;
  if (spread !== undefined && !endpoints.some((e) => Object.hasOwn(e.labels, spread))) {
    const spreadPath = at('placement', 'spread');
    report([spreadPath, ...labelPaths], {
      path: spreadPath,
      message: `no docker endpoint has the label '${spread}' to spread over (${endpoints.map((e) => `${e.name}: ${labelList(e)}`).join('; ')}); label the endpoints or fix the key`,
    });
  }
}

/** The endpoints placement can be checked against, or none when one is too broken to read. */
function labelledEndpoints(endpoints: unknown): readonly LabelledEngine[] | undefined {
  if (!Array.isArray(endpoints)) return undefined;
  const readable = (e: unknown): e is LabelledEngine =>
    typeof e === 'object' &&
    e !== null &&
    typeof (e as LabelledEngine).name === 'string' &&
    typeof (e as LabelledEngine).labels === 'object' &&
    (e as LabelledEngine).labels !== null;
  return endpoints.every(readable) ? endpoints : undefined;
}

function labelList(e: LabelledEngine): string {
  const pairs = Object.entries(e.labels).map(([k, v]) => `${k}=${v}`);
  return pairs.length > 0 ? pairs.join(', ') : 'none';
}

function reporterFor(ctx: z.RefinementCtx): Report {
  const failed = failedFields(ctx.issues);
  return (involves, issue) => {
    if (involves.some((field) => failed.some((bad) => overlaps(field, bad)))) return;
    ctx.addIssue({ code: 'custom', path: [...issue.path], message: issue.message });
  };
}

/** The fields the issues raised so far point at; an unknown key fails only itself, not its object. */
function failedFields(issues: readonly z.core.$ZodRawIssue[]): Path[] {
  return issues.flatMap((issue) => {
    const path = (issue.path ?? []) as Path;
    return issue.code === 'unrecognized_keys' ? issue.keys.map((key) => [...path, key]) : [path];
  });
}

/** One path lies inside the other (or they are equal): a broken object breaks its fields. */
function overlaps(a: Path, b: Path): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}
