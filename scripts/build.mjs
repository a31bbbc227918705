// Compiles src/ into dist/ (tsconfig.build.json), which bin/glint.js runs while it is newer than
// every source file. Incremental: a second run recompiles only what changed. Plain node, no
// shell: the image's first stage runs it on a stand-in that has only busybox.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

process.chdir(new URL('..', import.meta.url).pathname);
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
// Written after the compiler finished: bin/glint.js compares its time with the sources'.
writeFileSync('dist/.built', `${new Date().toISOString()}\n`);
