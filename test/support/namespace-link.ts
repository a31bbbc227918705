import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A network namespace joined to the host by a veth pair on a private /24: the host end holds
 * `.1`, the namespace end (`eth0` inside) holds `.2`. Traffic between them never leaves the
 * machine.
 */
export type NamespaceLink = {
  namespace: string;
  /** The host end's interface name (at most 15 characters, like every interface name). */
  hostLink: string;
  /** `.2`: the namespace's own address. */
  namespaceAddress: string;
  /** `.1`: the host end, the namespace's default route. */
  hostSideAddress: string;
};

/** The namespace end's name inside the namespace. */
const NAMESPACE_LINK = 'eth0';

export function namespacePath(namespace: string): string {
  return `/var/run/netns/${namespace}`;
}

export function linkOf(namespace: string, subnetPrefix: string): NamespaceLink {
  return {
    namespace,
    hostLink: `${namespace}h`,
    namespaceAddress: `${subnetPrefix}.2`,
    hostSideAddress: `${subnetPrefix}.1`,
  };
}

async function ip(...args: string[]): Promise<string> {
  const { stdout } = await run('ip', args);
  return stdout;
}

/**
 * Makes the namespace and its link. The host learns the namespace end's MAC address for good
 * (a permanent neighbour entry), so that while the link is cut the host's packets vanish on the
 * dead veth instead of failing fast on an unanswered ARP: a partition as a real network shows
 * it, and nothing is sent out of the machine's own interfaces meanwhile.
 */
export async function createNamespaceLink(link: NamespaceLink): Promise<void> {
  const { namespace, hostLink, namespaceAddress, hostSideAddress } = link;
  await ip('netns', 'add', namespace);
  await ip('link', 'add', hostLink, 'type', 'veth', 'peer', 'name', NAMESPACE_LINK, 'netns', namespace);
  await ip('addr', 'add', `${hostSideAddress}/24`, 'dev', hostLink);
  await ip('link', 'set', hostLink, 'up');
  await ip('-n', namespace, 'addr', 'add', `${namespaceAddress}/24`, 'dev', NAMESPACE_LINK);
  await ip('-n', namespace, 'link', 'set', 'lo', 'up');
  await ip('-n', namespace, 'link', 'set', NAMESPACE_LINK, 'up');
  await ip('-n', namespace, 'route', 'add', 'default', 'via', hostSideAddress);
  const [info] = JSON.parse(await ip('-n', namespace, '-j', 'link', 'show', 'dev', NAMESPACE_LINK)) as {
    address: string;
  }[];
  if (!info) throw new Error(`ip link show found no ${NAMESPACE_LINK} in namespace ${namespace}`);
  await ip('neigh', 'replace', namespaceAddress, 'lladdr', info.address, 'nud', 'permanent', 'dev', hostLink);
}

/**
 * Cuts the link by taking the namespace end down. Taking the host end down instead would drop
 * the host's route to the /24, and the host would then send the namespace's traffic to its
 * default gateway, out of the machine.
 */
export async function cutNamespaceLink(link: NamespaceLink): Promise<void> {
  await ip('-n', link.namespace, 'link', 'set', NAMESPACE_LINK, 'down');
}

/** Brings the namespace end up again, with the default route its going down removed. */
export async function restoreNamespaceLink(link: NamespaceLink): Promise<void> {
  await ip('-n', link.namespace, 'link', 'set', NAMESPACE_LINK, 'up');
  await ip('-n', link.namespace, 'route', 'replace', 'default', 'via', link.hostSideAddress);
}

/** Removes the link and the namespace; what is already gone is fine. */
export async function removeNamespaceLink(
  link: Pick<NamespaceLink, 'namespace' | 'hostLink'>,
): Promise<void> {
  await ip('link', 'del', link.hostLink).catch((err: Error) => {
    if (!/Cannot find device/.test(err.message)) throw err;
  });
  await ip('netns', 'del', link.namespace).catch((err: Error) => {
    if (!/No such file/.test(err.message)) throw err;
  });
}

/** IPv4 prefixes the host already routes or holds: a new /24 must overlap none of them. */
export async function prefixesInUse(): Promise<string[]> {
  const text = `${await ip('-4', '-o', 'route', 'show', 'table', 'all')}\n${await ip('-4', '-o', 'addr', 'show')}`;
  const prefixes: string[] = [];
  for (const match of text.matchAll(/(?:^|\s)(\d+\.\d+\.\d+\.\d+(?:\/\d+)?)(?=\s|$)/gm)) {
    const prefix = match[1] ?? '';
    prefixes.push(prefix.includes('/') ? prefix : `${prefix}/32`);
  }
  return prefixes;
}

function toNumber(address: string): number {
  return address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

/** Whether two IPv4 prefixes (`a.b.c.d/n`) share any address. */
export function prefixesOverlap(a: string, b: string): boolean {
  const [aAddress = '', aBits = '32'] = a.split('/');
  const [bAddress = '', bBits = '32'] = b.split('/');
  const bits = Math.min(Number(aBits), Number(bBits));
  const size = 2 ** (32 - bits);
  return Math.floor(toNumber(aAddress) / size) === Math.floor(toNumber(bAddress) / size);
}
