import { ConfigError, loadConfig } from '../config/index.ts';
import { startDaemon } from '../daemon.ts';
import { GlintError } from '../errors/index.ts';
import { createLogger } from '../log/index.ts';

/** `glint daemon`: validates the declaration, starts, and runs until SIGINT/SIGTERM. */
export async function daemonCommand(configFile: string): Promise<number> {
  const log = createLogger({ level: process.env.GLINT_LOG_LEVEL ?? 'info' });
  let config: Awaited<ReturnType<typeof loadConfig>>;
  try {
    config = await loadConfig(configFile);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
  log.info({ configFile, apps: Object.keys(config.apps) }, 'declaration valid');
  guardKnownClientCrash(log);
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  try {
    daemon = await startDaemon(config, log);
  } catch (err) {
    // startDaemon has released what it acquired; the caller ends the process with this code.
    if (err instanceof GlintError) log.error({ code: err.code }, err.message);
    else log.error({ err }, 'daemon failed to start');
    log.flush();
    return 1;
  }
  const onHangup = () => void reloadDeclaration(configFile, daemon, log);
  process.on('SIGHUP', onHangup);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  process.off('SIGHUP', onHangup);
  log.info({ signal }, 'shutting down');
  await daemon.close();
  log.flush();
  return 0;
}

/**
 * SIGHUP reads the declaration again. An invalid file is refused with its problems and the
 * running declaration stays; a valid one is applied (HAProxy structure, then the apps).
 */
async function reloadDeclaration(
  configFile: string,
  daemon: Awaited<ReturnType<typeof startDaemon>>,
  log: ReturnType<typeof createLogger>,
): Promise<void> {
  log.info({ configFile }, 'SIGHUP: reading the declaration again');
  try {
    await daemon.reload(await loadConfig(configFile));
  } catch (err) {
    if (err instanceof ConfigError) {
      log.error({ configFile }, `declaration refused, the running one stays:\n${err.message}`);
      return;
    }
    log.error({ err }, 'could not apply the new declaration; the running one stays');
  }
}

/**
 * etcd3 1.1.2 throws "Failed to find watcher for IWatchResponse" from inside its stream
 * handler when etcd and the client cancel the same watch at once (seen after compaction and
 * reconnects). The watch is gone either way and the watchers re-list on their own, so that one
 * error is logged and survived; anything else still ends the process.
 */
function guardKnownClientCrash(log: ReturnType<typeof createLogger>): void {
  process.on('uncaughtException', (err) => {
    if (err instanceof Error && err.message.includes('Failed to find watcher for IWatchResponse')) {
      log.warn({ err: err.message }, 'etcd client dropped a cancelled watch; continuing');
      return;
    }
    log.fatal({ err }, 'uncaught exception; exiting');
    log.flush();
    process.exit(1);
  });
}
