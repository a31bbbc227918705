import { GenericContainer, type StartedTestContainer, Wait } from 'testcontainers';
import { testLabels } from './labels.ts';

export const ETCD_IMAGE = process.env.GLINT_ETCD_IMAGE ?? 'quay.io/coreos/etcd:v3.4.23';

export type EtcdHandle = { container: StartedTestContainer; endpoint: string };

/**
 * A real single-node etcd. `hostPort` pins the published port so a test can restart the
 * container and reconnect to the same address.
 */
export async function startEtcd(suite: string, opts: { hostPort?: number } = {}): Promise<EtcdHandle> {
  const container = await new GenericContainer(ETCD_IMAGE)
    .withLabels(testLabels(suite))
    .withCommand([
      '/usr/local/bin/etcd',
      '--name=glint-test',
      '--data-dir=/var/lib/etcd/data',
      '--listen-client-urls=http://0.0.0.0:2379',
      '--advertise-client-urls=http://127.0.0.1:2379',
      '--listen-peer-urls=http://127.0.0.1:2380',
      '--initial-advertise-peer-urls=http://127.0.0.1:2380',
      '--initial-cluster=glint-test=http://127.0.0.1:2380',
    ])
    .withExposedPorts(opts.hostPort ? { container: 2379, host: opts.hostPort } : 2379)
    .withWaitStrategy(Wait.forLogMessage(/ready to serve client requests/))
    .withStartupTimeout(30_000)
    .start();
  return { container, endpoint: `http://127.0.0.1:${container.getMappedPort(2379)}` };
}
