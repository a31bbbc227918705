import Docker from 'dockerode';
import { TEST_LABEL } from './labels.ts';

/**
 * Removes (force, with anonymous volumes) every container carrying the test label; narrowed to
 * one run and/or one suite when given. Safe to call twice.
 */
export async function removeTestContainers(scope: { runId?: string; suite?: string } = {}): Promise<number> {
  const docker = new Docker();
  const label = [scope.runId ? `${TEST_LABEL}=${scope.runId}` : TEST_LABEL];
  if (scope.suite) label.push(`glint.test.suite=${scope.suite}`);
  const containers = await docker.listContainers({ all: true, filters: { label } });
  // Eight at a time: a hundred force-removals at once (a bench's instances) can wedge the engine.
  const queue = containers.map((c) => c.Id);
  await Promise.all(
    Array.from({ length: Math.min(8, queue.length) }, async () => {
      for (let id = queue.shift(); id; id = queue.shift())
        await docker
          .getContainer(id)
          .remove({ force: true, v: true })
          .catch(() => undefined);
    }),
  );
  return containers.length;
}
