// Prints one line per failed test in vitest JSON reports ("file > describe > test", then the
// first line of its failure), and one line per suite that failed without a failing test of its
// own (a file that did not load, a hook that threw). Prints nothing when every test passed.
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';

const firstLine = (text) =>
  String(text ?? '')
    .split('\n')
    .find((line) => line.trim() !== '')
    ?.trim() ?? '';

for (const file of process.argv.slice(2)) {
  if (!existsSync(file)) continue;
  const report = JSON.parse(readFileSync(file, 'utf8'));
  for (const suite of report.testResults) {
    const where = relative(process.cwd(), suite.name);
    const failed = suite.assertionResults.filter((t) => t.status === 'failed');
    for (const t of failed) {
      console.log(`${[where, ...t.ancestorTitles, t.title].join(' > ')}`);
      console.log(`    ${firstLine(t.failureMessages?.[0])}`);
    }
    if (suite.status === 'failed' && failed.length === 0) {
      console.log(`${where} (the file failed outside its tests)`);
      console.log(`    ${firstLine(suite.message)}`);
    }
  }
}
