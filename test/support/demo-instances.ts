import Docker from 'dockerode';
import { testLabels } from './labels.ts';
import { waitFor } from './wait-for.ts';

export type DemoInstance = { id: string; name: string; address: string; port: number };

/**
 * Runs one demo-app container the way an instance runs: `--init` (so stop takes ~0.1 s),
 * port 8080 published on an ephemeral 127.0.0.1 port, labelled for teardown. Resolves once
 * it answers /healthz with 200 on its published port.
 */
export async function startDemoInstance(
  suite: string,
  image: string,
  name: string,
  env: Record<string, string> = {},
  docker = new Docker(),
): Promise<DemoInstance> {
  const container = await docker.createContainer({
    Image: image,
    name: `${suite}-${name}-${process.pid}`,
    Labels: testLabels(suite),
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    ExposedPorts: { '8080/tcp': {} },
    HostConfig: { Init: true, PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
  });
  await container.start();
  const info = await container.inspect();
  const port = Number(info.NetworkSettings.Ports['8080/tcp']?.[0]?.HostPort);
  if (!port) throw new Error(`container ${name} published no port for 8080/tcp`);
  await waitFor(
    async () => ((await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200 ? true : undefined),
    { timeoutMs: 20_000, what: `demo instance ${name} to answer /healthz` },
  );
  return { id: container.id, name, address: '127.0.0.1', port };
}

export async function stopDemoInstance(id: string, docker = new Docker()): Promise<void> {
  const container = docker.getContainer(id);
  await container.stop({ t: 10 }).catch((err: { statusCode?: number }) => {
    if (err.statusCode !== 304) throw err; // already stopped
  });
  await container.remove({ v: true });
}

export async function killDemoInstance(id: string, docker = new Docker()): Promise<void> {
  await docker.getContainer(id).kill({ signal: 'SIGKILL' });
}
