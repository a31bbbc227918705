import { GlintError } from '../errors/index.ts';
import { type DockerEngine, dockerodeOf } from './engine.ts';
import { translateEngineError } from './engine-errors.ts';
import { DockerErrorCode } from './error-codes.ts';

/** The part of `docker network inspect bridge` the service address is read from. */
export type BridgeIpam = { Config?: ReadonlyArray<{ Subnet?: string; Gateway?: string }> | null };

const IPV4_SUBNET = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * The default bridge's gateway: the address its containers reach their engine's host at
 * (Docker's `host-gateway`). Docker 20.10 lists only the subnet for the default bridge; its
 * gateway is then the subnet's first host address, which is what Docker gives it.
 */
export function bridgeGateway(ipam: BridgeIpam): string | undefined {
  const configs = ipam.Config ?? [];
  const gateway = configs.find((c) => c.Gateway && IPV4.test(c.Gateway))?.Gateway;
  if (gateway) return gateway;
  for (const c of configs) {
    const m = IPV4_SUBNET.exec(c.Subnet ?? '');
    if (!m) continue;
    const bits = Number(m[5]);
    if (bits > 30) continue;
    const base = m.slice(1, 5).reduce((acc, part) => acc * 256 + Number(part), 0);
    const network = bits === 0 ? 0 : base - (base % 2 ** (32 - bits));
    const first = network + 1;
    return [24, 16, 8, 0].map((shift) => Math.floor(first / 2 ** shift) % 256).join('.');
  }
  return undefined;
}

/**
 * Reads the engine's default bridge network for the address its containers reach HAProxy at,
 * when HAProxy (host networking) runs on the engine's own machine. `endpoint` names the
 * declaration's entry in the error, which says what to set instead.
 */
export async function discoverServiceAddress(engine: DockerEngine, endpoint: string): Promise<string> {
  let ipam: BridgeIpam;
  try {
    const network = (await dockerodeOf(engine).getNetwork('bridge').inspect()) as { IPAM?: BridgeIpam };
    ipam = network.IPAM ?? {};
  } catch (err) {
    throw translateEngineError(err, `reading the bridge network of Docker endpoint ${endpoint}`);
  }
  const address = bridgeGateway(ipam);
  if (address) return address;
  throw new GlintError(
    DockerErrorCode.ServiceAddressUnknown,
    `Docker endpoint ${endpoint} has no IPv4 gateway on its default bridge network; set serviceAddress on that docker.endpoints entry to an address of HAProxy's machine its containers reach`,
    { details: { endpoint } },
  );
}
