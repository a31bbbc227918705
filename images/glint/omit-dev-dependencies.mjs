// Leaves in node_modules what `npm ci --omit=dev` would install: removes every package the
// lockfile marks `dev`, the scope folders left empty and the .bin links that pointed into them. Plain node, because the
// offline node:20-slim stand-in has no npm. Run from the folder holding package-lock.json.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
let removed = 0;
for (const [path, entry] of Object.entries(lock.packages ?? {})) {
  if (path === '' || !entry.dev || !existsSync(path)) continue;
  rmSync(path, { recursive: true, force: true });
  removed++;
}
for (const scope of readdirSync('node_modules').filter((name) => name.startsWith('@'))) {
  const dir = join('node_modules', scope);
  if (readdirSync(dir).length === 0) rmSync(dir, { recursive: true });
}
const bin = 'node_modules/.bin';
for (const name of existsSync(bin) ? readdirSync(bin) : []) {
  const link = join(bin, name);
  if (!existsSync(link)) rmSync(link, { force: true });
}
console.log(`omitted ${removed} dev packages`);
