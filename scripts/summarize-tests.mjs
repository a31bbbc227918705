// Prints one closing line over every vitest JSON report: "tests: N passed, N failed".
// A suite that failed to load has no failed test of its own; it counts as one failure.
import { existsSync, readFileSync } from 'node:fs';

let passed = 0;
let failed = 0;
for (const file of process.argv.slice(2)) {
  if (!existsSync(file)) {
    failed += 1;
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  const brokenSuites = report.testResults.filter(
    (suite) => suite.status === 'failed' && suite.assertionResults.every((t) => t.status !== 'failed'),
  ).length;
  passed += report.numPassedTests;
  failed += report.numFailedTests + brokenSuites;
}
console.log(`tests: ${passed} passed, ${failed} failed`);
