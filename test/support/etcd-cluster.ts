import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { ETCD_IMAGE } from './etcd-container.ts';
import { freePort } from './free-port.ts';
import { testLabels } from './labels.ts';
import { waitFor } from './wait-for.ts';

export type EtcdMember = {
  /** The member's etcd name, also its host name on the cluster's network (peer URLs use it). */
  name: string;
  /** The Docker container's name. */
  container: string;
  /** Where the host reaches the member: 127.0.0.1 and the published client port. */
  clientUrl: string;
};

export type EtcdCluster = {
  /** Every member's client URL, in member order: what glint's `etcd.endpoints` takes. */
  endpoints: string[];
  members: EtcdMember[];
  /** The leader every running member names, once they agree on one of them. */
  leader(): Promise<EtcdMember>;
  /** SIGKILL, as a crashed machine: no goodbye to the peers or the clients. */
  kill(member: EtcdMember): Promise<void>;
  /**
   * Starts a killed member again with its data and its published port: it rejoins as itself.
   * Resolves once every member reports the cluster healthy.
   */
  restart(member: EtcdMember): Promise<void>;
  /** Removes the members and the network; safe to call twice and after a failed start. */
  stop(): Promise<void>;
};

type MemberStatus = { header?: { member_id?: string }; leader?: string };

const CLIENT_PORT = 2379;
const PEER_PORT = 2380;

/**
 * A real etcd cluster of `size` members (default 3) in containers on a network of the test's
 * own. Peers find each other by their names on that network; each member's client port is
 * published on 127.0.0.1, and that address is the one it advertises, since etcd3 on the host
 * must reach every member it is given. Ready once every member says the cluster is healthy
 * (has a leader).
 */
export async function startEtcdCluster(suite: string, opts: { size?: number } = {}): Promise<EtcdCluster> {
  const docker = new Docker();
  const size = opts.size ?? 3;
  const tag = randomBytes(3).toString('hex');
  const labels = testLabels(suite);
  const containers: Docker.Container[] = [];
  let network: Docker.Network | undefined;
  let stopped = false;

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all(containers.map((c) => c.remove({ force: true, v: true }).catch(() => undefined)));
    await network?.remove().catch(() => undefined);
  };

  try {
    const networkName = `glint-test-etcd-${tag}`;
    network = await docker.createNetwork({ Name: networkName, Driver: 'bridge', Labels: labels });
    const names = Array.from({ length: size }, (_, i) => `etcd-${i}`);
    const initialCluster = names.map((n) => `${n}=http://${n}:${PEER_PORT}`).join(',');
    const members: EtcdMember[] = [];
    for (const name of names) {
      const hostPort = await freePort();
      const clientUrl = `http://127.0.0.1:${hostPort}`;
      const containerName = `glint-test-${tag}-${name}`;
      const container = await docker.createContainer({
        name: containerName,
        Image: ETCD_IMAGE,
        Labels: labels,
        Cmd: [
          '/usr/local/bin/etcd',
          `--name=${name}`,
          '--data-dir=/var/lib/etcd/data',
          `--listen-client-urls=http://0.0.0.0:${CLIENT_PORT}`,
          `--advertise-client-urls=${clientUrl}`,
          `--listen-peer-urls=http://0.0.0.0:${PEER_PORT}`,
          `--initial-advertise-peer-urls=http://${name}:${PEER_PORT}`,
          `--initial-cluster=${initialCluster}`,
          `--initial-cluster-token=glint-test-${tag}`,
          '--initial-cluster-state=new',
        ],
        ExposedPorts: { [`${CLIENT_PORT}/tcp`]: {} },
        HostConfig: {
          NetworkMode: networkName,
          PortBindings: { [`${CLIENT_PORT}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(hostPort) }] },
        },
        NetworkingConfig: { EndpointsConfig: { [networkName]: { Aliases: [name] } } },
      });
      containers.push(container);
      members.push({ name, container: containerName, clientUrl });
    }
    const allHealthy = async () => {
      for (const m of members)
        await waitFor(async () => ((await healthOf(m)) ? true : undefined), {
          what: `etcd member ${m.name} to report a healthy cluster`,
          timeoutMs: 60_000,
          intervalMs: 200,
        });
    };
    // All at once: a member waits for its peers before it elects, so one at a time would stall.
    await Promise.all(containers.map((c) => c.start()));
    await allHealthy();

    const killed = new Set<string>();
    const indexOf = (member: EtcdMember) => {
      const index = members.indexOf(member);
      if (index < 0) throw new Error(`${member.name} is not a member of this cluster`);
      return index;
    };
    return {
      endpoints: members.map((m) => m.clientUrl),
      members,
      leader: () =>
        waitFor(
          async () => {
            const alive = members.filter((m) => !killed.has(m.name));
            const statuses = await Promise.all(alive.map(statusOf));
            // Right after an election or a restart a member may still name the old leader, or none.
            const named = new Set(statuses.map((s) => s.leader));
            const [leaderId] = named;
            if (named.size !== 1 || !leaderId || leaderId === '0') return undefined;
            return alive[statuses.findIndex((s) => s.header?.member_id === leaderId)];
          },
          {
            what: 'the running etcd members to agree on a leader among them',
            timeoutMs: 30_000,
            intervalMs: 100,
          },
        ),
      kill: async (member) => {
        const container = containers[indexOf(member)]!;
        killed.add(member.name);
        await container.kill({ signal: 'SIGKILL' });
      },
      restart: async (member) => {
        await containers[indexOf(member)]!.start();
        killed.delete(member.name);
        await allHealthy();
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** etcd's own health check: true only while the member sees a leader and can commit. */
async function healthOf(m: EtcdMember): Promise<boolean> {
  const res = await fetch(`${m.clientUrl}/health`, { signal: AbortSignal.timeout(2_000) });
  const body = (await res.json()) as { health?: string };
  return res.ok && body.health === 'true';
}

/** The member's status through etcd's JSON gateway: its own id and the leader it follows. */
async function statusOf(m: EtcdMember): Promise<MemberStatus> {
  const res = await fetch(`${m.clientUrl}/v3/maintenance/status`, {
    method: 'POST',
    body: '{}',
    signal: AbortSignal.timeout(2_000),
  });
  if (!res.ok) throw new Error(`${m.name} answered its status with ${res.status}`);
  return (await res.json()) as MemberStatus;
}
