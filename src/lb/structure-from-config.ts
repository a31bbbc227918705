import { isAbsolute, resolve } from 'node:path';
import type { GlintConfig } from '../config/index.ts';
import { DEFAULT_TIMEOUTS, type LbHealthCheck } from './lb-model.ts';
import type { LbStructure } from './model-edits.ts';

type HealthConfig = GlintConfig['apps'][string]['health'];

/**
 * HAProxy's own check for an app follows its health type. `http` apps get an HTTP check on
 * their path and expected statuses (L7OK). The others get a plain TCP check on the instance's
 * port (L4OK): a `tcp` app need not speak HTTP at all, and for `exec` and `docker` glint's own
 * probe gates readiness while HAProxy only confirms the port takes connections.
 */
function checkFor(health: HealthConfig): LbHealthCheck {
  const timing = {
    intervalMs: health.interval,
    rise: health.healthyThreshold,
    fall: health.unhealthyThreshold,
    timeoutMs: health.timeout,
  };
  if (health.type === 'http')
    return { type: 'http', path: health.path, expectStatus: health.expectStatus, ...timing };
  return { type: 'tcp', ...timing };
}

/**
 * The load balancer's structure (no servers: membership is the runtime API's) for a declaration.
 * `serviceAddresses`: where each Docker endpoint's containers reach HAProxy (declared or read
 * from the engine at start); every app frontend listens there too.
 */
export function structureFromConfig(
  config: GlintConfig,
  cwd: string,
  serviceAddresses: readonly string[] = [],
): LbStructure {
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
    ...(serviceAddresses.length > 0 ? { serviceAddresses: [...new Set(serviceAddresses)].sort() } : {}),
    apps: Object.entries(config.apps).map(([name, app]) => ({
      name,
      ...(app.routing.frontendPort
        ? { frontend: { bind: `${app.routing.bind}:${app.routing.frontendPort}` } }
        : {}),
      ...(app.routing.hosts.length > 0 ? { hosts: app.routing.hosts } : {}),
      ...(app.routing.retryWrites ? { retryWrites: true } : {}),
      check: checkFor(app.health),
      drainTimeoutMs: app.strategy.drainTimeout,
    })),
  };
}
