import { ConfigError, DEFAULT_CONFIG_FILE, loadConfig } from '../config/index.ts';

/** `glint config check [file]`: prints every problem with its field path; exit 1 when any. */
export async function configCheckCommand(
  file = DEFAULT_CONFIG_FILE,
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  try {
    const config = await loadConfig(file);
    const apps = Object.entries(config.apps).map(
      ([name, app]) => `${name} (${app.instances}× ${app.image}:${app.version})`,
    );
    out.write(
      `${file} is valid: ${apps.length} app${apps.length === 1 ? '' : 's'}${apps.length ? `: ${apps.join(', ')}` : ''}\n`,
    );
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      err.write(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
