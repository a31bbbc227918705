import { isAbsolute, resolve } from 'node:path';
import type { GlintConfig } from '../config/index.ts';
import { DEFAULT_TIMEOUTS, type LbHealthCheck } from './lb-model.ts';
import type { LbStructure } from './model-edits.ts';

type HealthConfig = GlintConfig['apps'][string]['health'];

/**
 * HAProxy's own check for an app. It is always HTTP (readiness needs L7OK): apps that glint
 * probes with http use their path and expected statuses; the others (tcp, exec, docker) are
 * gated by glint's own probe, and HAProxy only asks that `/` answers HTTP at all.
 */
function checkFor(health: HealthConfig): LbHealthCheck {
  return {
    path: health.type === 'http' ? health.path : '/',
    intervalMs: health.interval,
    rise: health.healthyThreshold,
    fall: health.unhealthyThreshold,
    timeoutMs: health.timeout,
    expectStatus: health.type === 'http' ? health.expectStatus : '100-599',
  };
}

/** The load balancer's structure (no servers: membership is the runtime API's) for a declaration. */
export function structureFromConfig(config: GlintConfig, cwd: string): LbStructure {
  const { haproxy } = config;
  return {
    runDir: isAbsolute(haproxy.runDir) ? haproxy.runDir : resolve(cwd, haproxy.runDir),
    hardStopAfterMs: haproxy.hardStopAfter,
    timeouts: {
      ...DEFAULT_TIMEOUTS,
      connectMs: haproxy.timeouts.connect,
      clientMs: haproxy.timeouts.client,
      serverMs: haproxy.timeouts.server,
    },
    ...(haproxy.sharedFrontend ? { sharedFrontend: { bind: haproxy.sharedFrontend } } : {}),
    apps: Object.entries(config.apps).map(([name, app]) => ({
      name,
      ...(app.routing.frontendPort
        ? { frontend: { bind: `${app.routing.bind}:${app.routing.frontendPort}` } }
        : {}),
      ...(app.routing.hosts.length > 0 ? { hosts: app.routing.hosts } : {}),
      check: checkFor(app.health),
      drainTimeoutMs: app.strategy.drainTimeout,
    })),
  };
}
