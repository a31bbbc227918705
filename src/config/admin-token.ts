import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export type AdminToken = { token: string; source: 'env' | 'file' | 'generated' };

/**
 * The admin API token: GLINT_API_TOKEN when set, otherwise the one generated once into
 * `file` (mode 600), so restarting the daemon keeps CI's token valid.
 */
export async function resolveAdminToken(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<AdminToken> {
  const fromEnv = env.GLINT_API_TOKEN?.trim();
  if (fromEnv) return { token: fromEnv, source: 'env' };
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing) {
      await chmod(file, 0o600);
      return { token: existing, source: 'file' };
    }
  } catch {
    // Not there yet: generate below.
  }
  const token = randomBytes(32).toString('base64url');
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${token}\n`, { mode: 0o600, flag: 'w' });
  await chmod(file, 0o600);
  return { token, source: 'generated' };
}
