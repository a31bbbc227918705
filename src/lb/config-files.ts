import { copyFile, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Writes through a temporary file in the same folder and renames it: readers never see half. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = join(dirname(path), `.${Date.now()}-${process.pid}-${Math.random().toString(36).slice(2)}.tmp`);
  try {
    const handle = await open(tmp, 'w', 0o644);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Keeps the file being replaced as `previousPath`, then moves the candidate in place. */
export async function installWithBackup(candidatePath: string, path: string, previousPath: string) {
  await copyFile(path, previousPath).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
  await rename(candidatePath, path);
}

/** Copies through a temporary file, so the destination is replaced in one step. */
export async function copyFileAtomic(source: string, destination: string): Promise<void> {
  await writeFileAtomic(destination, await readFile(source, 'utf8'));
}
