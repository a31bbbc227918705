/** The host ports glint hands to instances in the host's network, both ends included. */
export type HostPortRange = { min: number; max: number };

/**
 * Nomad's dynamic port range: below Linux's ephemeral ports (32768 and up), so an outgoing
 * connection of the host never holds one.
 */
export const DEFAULT_HOST_PORTS: HostPortRange = { min: 20000, max: 32000 };

/**
 * A port of `range` that no instance on the engine holds, at random so that a port an instance
 * just gave up (its clients' connections may still be closing) is not handed straight on.
 * `random` returns [0, 1). Undefined when every port of the range is taken.
 */
export function pickHostPort(
  taken: ReadonlySet<number>,
  range: HostPortRange,
  random: () => number,
): number | undefined {
  const size = range.max - range.min + 1;
  const start = Math.floor(random() * size);
  for (let i = 0; i < size; i++) {
    const port = range.min + ((start + i) % size);
    if (!taken.has(port)) return port;
  }
  return undefined;
}
