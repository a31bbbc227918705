import type Dockerode from 'dockerode';
import { describe, expect, it } from 'vitest';
import { listedAddress, networkIp } from '../../../src/docker/instance-address.ts';

/** A list answer of one container, as Docker's /containers/json gives it. */
function listed(over: {
  ports?: Dockerode.Port[];
  ip?: string;
  labels?: Record<string, string>;
  network?: string;
  state?: string;
}) {
  return {
    Id: 'c1',
    State: over.state ?? 'running',
    HostConfig: { NetworkMode: over.network ?? 'default' },
    Labels: over.labels ?? {},
    Ports: over.ports ?? [],
    NetworkSettings: { Networks: over.ip === undefined ? {} : { bridge: { IPAddress: over.ip } } },
  } as unknown as Dockerode.ContainerInfo;
}

const published: Dockerode.Port = { IP: '127.0.0.1', PrivatePort: 8080, PublicPort: 32768, Type: 'tcp' };
const exposed = (port: number): Dockerode.Port => ({ PrivatePort: port, Type: 'tcp' }) as Dockerode.Port;

describe('listedAddress', () => {
  const rows: {
    name: string;
    mode: 'host' | 'container';
    container: Dockerode.ContainerInfo;
    want: { host: string; port: number } | undefined;
  }[] = [
    {
      name: 'host mode: the published port',
      mode: 'host',
      container: listed({ ports: [published], ip: '172.17.0.5' }),
      want: { host: '127.0.0.1', port: 32768 },
    },
    {
      name: 'host mode: nothing published, no address',
      mode: 'host',
      container: listed({ ports: [exposed(8080)], ip: '172.17.0.5' }),
      want: undefined,
    },
    {
      name: 'container mode: its IP and the port its label names, among other exposed ports',
      mode: 'container',
      container: listed({
        ports: [exposed(9090), exposed(8080)],
        ip: '172.17.0.5',
        labels: { 'glint.port': '8080' },
      }),
      want: { host: '172.17.0.5', port: 8080 },
    },
    {
      name: 'container mode: a container from host mode is reached at its IP and private port',
      mode: 'container',
      container: listed({ ports: [published], ip: '172.17.0.6' }),
      want: { host: '172.17.0.6', port: 8080 },
    },
    {
      name: 'container mode: not running, no IP, no address',
      mode: 'container',
      container: listed({ ports: [], labels: { 'glint.port': '8080' } }),
      want: undefined,
    },
    {
      name: "host network, in either mode: the node's host IP and the port its label names",
      mode: 'container',
      container: listed({ network: 'host', labels: { 'glint.port': '23456' } }),
      want: { host: '10.0.0.7', port: 23456 },
    },
    {
      name: 'host network in host mode: nothing published, still the labelled port',
      mode: 'host',
      container: listed({ network: 'host', labels: { 'glint.port': '23456' } }),
      want: { host: '10.0.0.7', port: 23456 },
    },
    {
      name: 'host network, exited: it listens nowhere, no address',
      mode: 'host',
      container: listed({ network: 'host', state: 'exited', labels: { 'glint.port': '23456' } }),
      want: undefined,
    },
  ];
  it.each(rows)('$name', ({ mode, container, want }) => {
    expect(listedAddress(container, { addressMode: mode, hostIp: '10.0.0.7' })).toEqual(want);
  });
});

describe('networkIp', () => {
  it('takes the top-level address of an inspect answer, else the first network that has one', () => {
    expect(networkIp({ IPAddress: '172.17.0.2', Networks: { bridge: { IPAddress: '172.17.0.9' } } })).toBe(
      '172.17.0.2',
    );
    expect(
      networkIp({ IPAddress: '', Networks: { none: { IPAddress: '' }, app: { IPAddress: '10.1.0.4' } } }),
    ).toBe('10.1.0.4');
    expect(networkIp({ IPAddress: '', Networks: {} })).toBeUndefined();
    expect(networkIp(undefined)).toBeUndefined();
  });
});
