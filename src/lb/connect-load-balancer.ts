import { mkdir } from 'node:fs/promises';
import type { Logger } from '../log/index.ts';
import { pickConfigValidator } from './config-validator.ts';
import { HaproxyLoadBalancer } from './haproxy-load-balancer.ts';
import { backendName } from './lb-model.ts';
import type { LbStructure } from './model-edits.ts';

export type ConnectedLoadBalancer = { lb: HaproxyLoadBalancer; haproxyRunning: boolean };

/**
 * Brings HAProxy in line with the declaration when the daemon starts. A HAProxy already
 * running keeps its servers (adopted from its live state) and gets the declared structure;
 * it is reloaded even when the file on disk already matches, if it lacks a declared backend
 * (it was started from a bootstrap file). A HAProxy not running gets a checked file to start from.
 */
export async function connectLoadBalancer(
  structure: LbStructure,
  opts: { container?: string; logger: Logger },
): Promise<ConnectedLoadBalancer> {
  await mkdir(structure.runDir, { recursive: true });
  const validator = await pickConfigValidator(opts.container ? { container: opts.container } : {});
  const model = { ...structure, apps: structure.apps.map((app) => ({ ...app, servers: [] })) };
  const lb = new HaproxyLoadBalancer({ model, validator, logger: opts.logger });

  const running = await lb.master.showProc().then(
    () => true,
    () => false,
  );
  if (!running) {
    await lb.writeInitialConfig();
    return { lb, haproxyRunning: false };
  }
  const liveProxies = new Set((await lb.runtime.showStat()).map((row) => row.proxy));
  const lacksBackend = structure.apps.some((app) => !liveProxies.has(backendName(app.name)));
  await lb.adoptRunningServers();
  await lb.applyStructure(structure, { force: lacksBackend });
  return { lb, haproxyRunning: true };
}
