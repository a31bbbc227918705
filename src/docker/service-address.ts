import { GlintError, TransientError } from '../errors/index.ts';
import { type DockerEngine, dockerodeOf } from './engine.ts';
import { isNotFound, translateEngineError } from './engine-errors.ts';
import { DockerErrorCode } from './error-codes.ts';

/** The part of `docker network inspect bridge` the service address is read from. */
export type BridgeIpam = { Config?: ReadonlyArray<{ Subnet?: string; Gateway?: string }> | null };

/** Docker's default bridge gateway, unless its daemon was started with another `--bip`. */
export const DEFAULT_BRIDGE_GATEWAY = '172.17.0.1';

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
 * declaration's entry in the error, which says what to set instead. An engine that does not
 * answer within `timeoutMs` is a TransientError (dockerode's network inspect takes no signal).
 */
export async function discoverServiceAddress(
  engine: DockerEngine,
  endpoint: string,
  timeoutMs = 5_000,
): Promise<string> {
  let ipam: BridgeIpam;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new TransientError(
            DockerErrorCode.EngineUnreachable,
            `reading the bridge network of Docker endpoint ${endpoint}: no answer within ${timeoutMs} ms`,
          ),
        ),
      timeoutMs,
    );
  });
  try {
    const inspect = dockerodeOf(engine).getNetwork('bridge').inspect() as Promise<{ IPAM?: BridgeIpam }>;
    ipam = (await Promise.race([inspect, late])).IPAM ?? {};
  } catch (err) {
    if (!isNotFound(err))
      throw translateEngineError(err, `reading the bridge network of Docker endpoint ${endpoint}`);
    ipam = {};
  } finally {
    clearTimeout(timer);
  }
  const address = bridgeGateway(ipam);
  if (address) return address;
  throw new GlintError(
    DockerErrorCode.ServiceAddressUnknown,
    `Docker endpoint ${endpoint} has no IPv4 gateway on a default bridge network; set serviceAddress on that docker.endpoints entry to an address of HAProxy's machine its containers reach`,
    { details: { endpoint } },
  );
}
