import { resolve } from 'node:path';
import { ConfigError, DEFAULT_CONFIG_FILE, loadConfig } from '../config/index.ts';

/**
 * `glint config run-dir [file]`: prints the absolute HAProxy run folder the declaration resolves
 * to. The scripts and docker-compose.yml ask this instead of deciding on their own, so the stack
 * and the daemon always agree on where haproxy.cfg and the sockets are.
 */
export async function configRunDirCommand(
  file = DEFAULT_CONFIG_FILE,
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  try {
    const config = await loadConfig(file);
    out.write(`${resolve(config.haproxy.runDir)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      err.write(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
