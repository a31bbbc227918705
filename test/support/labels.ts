/**
 * Every container a test starts carries TEST_LABEL, valued with the test run's id, so teardown
 * (and `.ci/run`'s trap) can remove exactly what the tests started, even after a failure.
 */
export const TEST_LABEL = 'glint.test';

export function testRunId(): string {
  const id = process.env.GLINT_TEST_RUN;
  if (!id)
    throw new Error('GLINT_TEST_RUN is not set: run integration tests through vitest (global setup sets it)');
  return id;
}

export function testLabels(suite: string): Record<string, string> {
  return { [TEST_LABEL]: testRunId(), 'glint.test.suite': suite };
}
