import { describe, expect, it } from 'vitest';
import { type BridgeIpam, bridgeGateway } from '../../../src/docker/service-address.ts';

type Row = { name: string; ipam: BridgeIpam; want: string | undefined };

const rows: Row[] = [
  {
    name: 'the gateway the engine lists',
    ipam: { Config: [{ Subnet: '172.17.0.0/16', Gateway: '172.17.0.1' }] },
    want: '172.17.0.1',
  },
  {
    name: 'a gateway that is not the first address (a daemon started with --bip)',
    ipam: { Config: [{ Subnet: '10.200.0.0/24', Gateway: '10.200.0.254' }] },
    want: '10.200.0.254',
  },
  {
    name: "the subnet's first host when only the subnet is listed (Docker 20.10)",
    ipam: { Config: [{ Subnet: '172.17.0.0/16' }] },
    want: '172.17.0.1',
  },
  {
    name: 'the first host of a subnet written from a host address',
    ipam: { Config: [{ Subnet: '192.168.5.77/24' }] },
    want: '192.168.5.1',
  },
  {
    name: 'the IPv4 entry when an IPv6 one comes first',
    ipam: { Config: [{ Subnet: 'fd00::/64', Gateway: 'fd00::1' }, { Subnet: '172.20.0.0/16' }] },
    want: '172.20.0.1',
  },
  { name: 'nothing from a /31 or /32', ipam: { Config: [{ Subnet: '10.0.0.4/31' }] }, want: undefined },
  { name: 'nothing without a config', ipam: { Config: null }, want: undefined },
  { name: 'nothing from an empty IPAM', ipam: {}, want: undefined },
];

describe('bridgeGateway', () => {
  it.each(rows)('$name', ({ ipam, want }) => {
    expect(bridgeGateway(ipam)).toBe(want);
  });
});
