import { GenericContainer, type StartedTestContainer, Wait } from 'testcontainers';
import { testLabels } from './labels.ts';

export const HAPROXY_IMAGE = process.env.GLINT_HAPROXY_IMAGE ?? 'haproxy:2.6';

export type HaproxyHandle = {
  container: StartedTestContainer;
  /** Host folder holding haproxy.cfg and the sockets; mounted at the same path inside. */
  runDir: string;
  masterSocket: string;
  configPath: string;
};

/**
 * A real HAProxy in master-worker mode with host networking, the way glint runs it: it binds
 * loopback ports directly and reaches instances on their published 127.0.0.1 ports. The run
 * folder is mounted at the same path so socket and file paths mean the same on both sides.
 * `runDir/haproxy.cfg` must exist before the call.
 */
export async function startHaproxy(suite: string, runDir: string): Promise<HaproxyHandle> {
  const configPath = `${runDir}/haproxy.cfg`;
  const masterSocket = `${runDir}/master.sock`;
  const container = await new GenericContainer(HAPROXY_IMAGE)
    .withLabels(testLabels(suite))
    .withNetworkMode('host')
    .withBindMounts([{ source: runDir, target: runDir, mode: 'rw' }])
    .withCommand(['haproxy', '-W', '-S', `${masterSocket},mode,600`, '-f', configPath])
    .withWaitStrategy(Wait.forLogMessage(/Loading success/))
    .withStartupTimeout(30_000)
    .start();
  return { container, runDir, masterSocket, configPath };
}
