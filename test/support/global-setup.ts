import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { removeTestContainers } from './cleanup.ts';
import { sweepSecondEngines } from './second-engine-remains.ts';

/**
 * Integration/e2e global setup: a Docker engine must answer, the upstream images must exist
 * (stand-ins are built offline), and every container started under this run id is removed at
 * the end, on failure, and on Ctrl-C.
 */
export default async function setup(): Promise<() => Promise<void>> {
  // scripts/test.sh picks the id so its exit trap can clean up what a crashed run left.
  const runId = process.env.GLINT_TEST_RUN || `run-${randomUUID().slice(0, 8)}`;
  process.env.GLINT_TEST_RUN = runId;
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  process.env.TESTCONTAINERS_HOST_OVERRIDE = '127.0.0.1';

  execFileSync('bash', ['scripts/ensure-docker.sh'], { stdio: 'inherit' });
  execFileSync('bash', ['images/standins/build.sh'], { stdio: 'inherit' });
  // Second engines (test/support/second-engine.ts) whose test process is gone: a crashed run's.
  await sweepSecondEngines();

  const onSignal = (signal: NodeJS.Signals) => {
    void removeTestContainers({ runId })
      .finally(() => sweepSecondEngines({ runId }).catch((err) => console.error(err)))
      .finally(() => process.kill(process.pid, signal));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  return async () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await removeTestContainers({ runId });
    await sweepSecondEngines({ runId });
  };
}
