import type { z } from 'zod';
import type { AppConfig } from './app-schema.ts';

type Draft = {
  apps: Record<string, AppConfig>;
  api: { listen: string };
  haproxy: { sharedFrontend?: string | undefined };
};

/** Rules that span fields or apps: impossible strategies, health timing, port and host clashes. */
export function checkApps(config: Draft, ctx: z.RefinementCtx): void {
  const ports = new Map<number, string>();
  const apiPort = Number(config.api.listen.split(':')[1]);
  ports.set(apiPort, 'api.listen');
  if (config.haproxy.sharedFrontend)
    ports.set(Number(config.haproxy.sharedFrontend.split(':')[1]), 'haproxy.sharedFrontend');
  const hosts = new Map<string, string>();

  for (const [name, app] of Object.entries(config.apps)) {
    const at = (...rest: (string | number)[]) => ['apps', name, ...rest];
    checkStrategy(app, at, ctx);
    checkTiming(app, at, ctx);

    const frontendPort = app.routing.frontendPort;
    if (frontendPort !== undefined) {
      const owner = ports.get(frontendPort);
      if (owner) {
        ctx.addIssue({
          code: 'custom',
          path: at('routing', 'frontendPort'),
          message: `port ${frontendPort} is already used by ${owner}; give each app its own frontend port`,
        });
      } else ports.set(frontendPort, `apps.${name}.routing.frontendPort`);
    }
    app.routing.hosts.forEach((host, i) => {
      const owner = hosts.get(host.toLowerCase());
      if (owner) {
        ctx.addIssue({
          code: 'custom',
          path: at('routing', 'hosts', i),
          message: `host '${host}' is already routed to app '${owner}'; a host name can route to one app only`,
        });
      } else hosts.set(host.toLowerCase(), name);
    });
    if (app.routing.hosts.length > 0 && !config.haproxy.sharedFrontend) {
      ctx.addIssue({
        code: 'custom',
        path: at('routing', 'hosts'),
        message:
          "routing by host name needs a shared frontend: set haproxy.sharedFrontend, e.g. '127.0.0.1:80'",
      });
    }
  }
}

function checkStrategy(
  app: AppConfig,
  at: (...p: (string | number)[]) => (string | number)[],
  ctx: z.RefinementCtx,
) {
  const s = app.strategy;
  if (s.maxSurge === 0 && s.maxUnavailable === 0) {
    ctx.addIssue({
      code: 'custom',
      path: at('strategy'),
      message:
        'maxSurge and maxUnavailable are both 0, so no instance could ever be replaced; set maxSurge: 1 (start a new instance before stopping an old one) or maxUnavailable: 1',
    });
  }
  // Percentages that both round to 0 are allowed: as in Kubernetes, one instance may then be
  // unavailable, and the planner has to resolve budgets the same way.
  if (s.canary > app.instances) {
    ctx.addIssue({
      code: 'custom',
      path: at('strategy', 'canary'),
      message: `canary ${s.canary} is more than the app's ${app.instances} instances; use at most ${app.instances}`,
    });
  }
  if (s.minHealthyTime >= s.healthyDeadline) {
    ctx.addIssue({
      code: 'custom',
      path: at('strategy', 'minHealthyTime'),
      message:
        'minHealthyTime must be shorter than healthyDeadline, otherwise no instance can ever become ready in time',
    });
  }
  if (s.healthyDeadline > s.progressDeadline) {
    ctx.addIssue({
      code: 'custom',
      path: at('strategy', 'progressDeadline'),
      message:
        'progressDeadline must be at least healthyDeadline, or every slow start fails the whole deployment',
    });
  }
  if (s.autoPromoteAfter !== undefined && s.canary === 0) {
    ctx.addIssue({
      code: 'custom',
      path: at('strategy', 'autoPromoteAfter'),
      message:
        'autoPromoteAfter only applies to canaries; set strategy.canary above 0 or remove autoPromoteAfter',
    });
  }
}

function checkTiming(
  app: AppConfig,
  at: (...p: (string | number)[]) => (string | number)[],
  ctx: z.RefinementCtx,
) {
  if (app.health.timeout > app.health.interval) {
    ctx.addIssue({
      code: 'custom',
      path: at('health', 'timeout'),
      message: 'health timeout must not exceed the interval between checks; lower timeout or raise interval',
    });
  }
  const r = app.rotation;
  if (r.maxAge !== undefined && r.maxAge < 60_000) {
    ctx.addIssue({
      code: 'custom',
      path: at('rotation', 'maxAge'),
      message: "maxAge under 1m would replace instances constantly; use at least '1m'",
    });
  }
}
