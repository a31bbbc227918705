import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The one place that decides where HAProxy's run folder (haproxy.cfg, its sockets, the
 * server-state file) lives when the declaration names none. It belongs to the machine, not to a
 * checkout: there is one stack per machine, and a second checkout, or this one moved, must find
 * the HAProxy that is already running. `GLINT_HAPROXY_RUN_DIR` wins (the compose stack hands it
 * to the daemon's container); root gets /var/lib/glint/haproxy, anyone else their XDG state home.
 */
export function defaultHaproxyRunDir(
  env: NodeJS.ProcessEnv = process.env,
  uid: number | undefined = process.getuid?.(),
): string {
  if (env.GLINT_HAPROXY_RUN_DIR) return env.GLINT_HAPROXY_RUN_DIR;
  if (uid === 0) return '/var/lib/glint/haproxy';
  return join(env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state'), 'glint', 'haproxy');
}
