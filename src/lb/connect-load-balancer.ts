import { mkdir, readFile } from 'node:fs/promises';
import type { Logger } from '../log/index.ts';
import { type ConfigValidator, type ContainerExec, pickConfigValidator } from './config-validator.ts';
import { HaproxyLoadBalancer } from './haproxy-load-balancer.ts';
import { backendName } from './lb-model.ts';
import type { LbStructure } from './model-edits.ts';
import { renderHaproxyConfig } from './render-haproxy-config.ts';
import { isNoListener } from './socket-command.ts';

export type ConnectedLoadBalancer = { lb: HaproxyLoadBalancer; haproxyRunning: boolean };

export type ConnectLoadBalancerOptions = {
  logger: Logger;
  /** The HAProxy container, to run `haproxy -c` in when this host has no binary. */
  container?: string;
  /** Runs that command on the engine the daemon uses. */
  exec?: ContainerExec;
  /** Replaces the picked validator (tests). */
  validator?: ConfigValidator;
};

/**
 * Brings HAProxy in line with the declaration when the daemon starts. A HAProxy already
 * running keeps its servers (adopted from its live state) and gets the declared structure;
 * it is reloaded when the file it was last given differs from the declared structure with its
 * servers (the declaration changed while no daemon ran), or when it lacks a declared backend
 * (it was started from a bootstrap file), even if the file on disk already matches. A HAProxy not running gets a checked file to start from.
 * Only a master socket nobody listens on means "not running": any other failure (a timeout, a
 * cut answer) is thrown, since writing a fresh file then would forget a live HAProxy's servers.
 */
export async function connectLoadBalancer(
  structure: LbStructure,
  opts: ConnectLoadBalancerOptions,
): Promise<ConnectedLoadBalancer> {
  await mkdir(structure.runDir, { recursive: true });
  const validator =
    opts.validator ??
    (await pickConfigValidator({
      ...(opts.container ? { container: opts.container } : {}),
      ...(opts.exec ? { exec: opts.exec } : {}),
    }));
  const model = { ...structure, apps: structure.apps.map((app) => ({ ...app, servers: [] })) };
  const lb = new HaproxyLoadBalancer({ model, validator, logger: opts.logger });

  const running = await lb.master.showProc().then(
    () => true,
    (err: unknown) => {
      if (isNoListener(err)) return false;
      throw err;
    },
  );
  if (!running) {
    await lb.writeInitialConfig();
    return { lb, haproxyRunning: false };
  }
  const liveProxies = new Set((await lb.runtime.showStat()).map((row) => row.proxy));
  const lacksBackend = structure.apps.some((app) => !liveProxies.has(backendName(app.name)));
  // Adopting the servers writes the file from the declared structure, which would then pass for
  // the one HAProxy runs: compare with the file HAProxy was last given, read before that.
  const installed = await readFile(lb.paths.config, 'utf8').catch(() => '');
  await lb.adoptRunningServers();
  const drifted = renderHaproxyConfig(lb.model) !== installed;
  await lb.applyStructure(structure, { force: lacksBackend || drifted });
  return { lb, haproxyRunning: true };
}
