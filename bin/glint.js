#!/usr/bin/env node
// Entry point of the `glint` command. It runs the JavaScript that `npm run build` compiles into
// dist/ (about 30 MB less resident memory than compiling TypeScript on load, see the README's
// memory figure). While dist/ is missing or older than a source file it loads the TypeScript
// sources through tsx instead, so a checkout always runs, and an edited one never runs stale code.
import { readdirSync, statSync } from 'node:fs';

const root = new URL('../', import.meta.url);

function newestSourceMs(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = new URL(entry.name + (entry.isDirectory() ? '/' : ''), dir);
    newest = Math.max(newest, entry.isDirectory() ? newestSourceMs(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function isBuildCurrent() {
  try {
    // Written by scripts/build.mjs after the compiler finished.
    const built = statSync(new URL('dist/.built', root)).mtimeMs;
    return newestSourceMs(new URL('src/', root)) < built;
  } catch {
    return false;
  }
}

let main;
if (isBuildCurrent()) {
  ({ main } = await import('../dist/cli/main.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
// Exit explicitly: a command that has finished (or a daemon whose start failed) must not be
// kept alive by a handle some library left open.
process.exit(await main(process.argv));
