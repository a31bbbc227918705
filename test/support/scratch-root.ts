import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Global setup of every test project: points TMPDIR at one folder of this run, so every
 * `tmpdir()` folder a test, a fixture or a daemon child makes (HAProxy run folders, declarations,
 * sockets) lives under it, and removes it at the end, passed or failed. GLINT_KEEP_TMP=1 keeps it
 * for a post-mortem. The workers inherit the variable: they start after this runs.
 */
export default function setup(): () => Promise<void> {
  const previous = process.env.TMPDIR;
  const root = mkdtempSync(join(tmpdir(), 'r-'));
  process.env.TMPDIR = root;
  return async () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    if (process.env.GLINT_KEEP_TMP === '1') {
      console.log(`[tests] kept scratch folder ${root} (GLINT_KEEP_TMP=1)`);
      return;
    }
    await rm(root, { recursive: true, force: true });
  };
}
