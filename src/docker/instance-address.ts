import type Dockerode from 'dockerode';
import { type AddressMode, GLINT_LABELS } from './instance-spec.ts';

type NetworkSettings = { IPAddress?: string; Networks?: Record<string, { IPAddress?: string }> };

/** The first IPv4 address among a container's networks, from an inspect or a list answer. */
export function networkIp(settings: NetworkSettings | undefined): string | undefined {
  if (settings?.IPAddress) return settings.IPAddress;
  return Object.values(settings?.Networks ?? {}).find((n) => n.IPAddress)?.IPAddress || undefined;
}

/**
 * Where an instance is reached, from one list answer (no inspect): one in the host's network at
 * the node's `hostIp` and the port its labels name; otherwise its published host port in `host`
 * mode, or in `container` mode its network IP and the app port its labels name. Undefined while
 * it has none (not running, or a container of the other mode that publishes nothing).
 */
export function listedAddress(
  s: Dockerode.ContainerInfo,
  node: { addressMode: AddressMode; hostIp: string },
): { host: string; port: number } | undefined {
  const labelledPort = Number(s.Labels?.[GLINT_LABELS.port]) || undefined;
  if (s.HostConfig?.NetworkMode === 'host')
    return labelledPort && s.State === 'running' ? { host: node.hostIp, port: labelledPort } : undefined;
  if (node.addressMode === 'host') {
    const published = s.Ports?.find((p) => p.PublicPort && p.Type === 'tcp');
    return published ? { host: published.IP, port: published.PublicPort } : undefined;
  }
  const ip = networkIp(s.NetworkSettings as NetworkSettings | undefined);
  const port = labelledPort ?? s.Ports?.find((p) => p.PrivatePort && p.Type === 'tcp')?.PrivatePort;
  return ip && port ? { host: ip, port } : undefined;
}
