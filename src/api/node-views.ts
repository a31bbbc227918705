import type { NodeView } from './api-ports.ts';

type Status = {
  node: string;
  state: NodeView['state'];
  since: number;
  lastContact?: number | undefined;
  lastError?: string | undefined;
};
type Endpoint = {
  name: string;
  hostIp: string;
  addressMode?: 'host' | 'container' | undefined;
  labels?: Readonly<Record<string, string>> | undefined;
  capacity?: number | undefined;
};

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Each declared engine with node health's verdict and glint's running instances there
 * (`containers` undefined: the engine was not listed, so nothing is claimed about it). Pure.
 */
export function nodeViews(
  endpoints: readonly Endpoint[],
  statuses: readonly Status[],
  containers: ReadonlyMap<string, ReadonlyArray<{ app: string; running: boolean }> | undefined>,
): NodeView[] {
  return endpoints.map((e) => {
    const s = statuses.find((x) => x.node === e.name);
    const listed = containers.get(e.name);
    const apps: Record<string, number> = {};
    for (const c of listed ?? []) if (c.running) apps[c.app] = (apps[c.app] ?? 0) + 1;
    return {
      name: e.name,
      state: s?.state ?? 'unreachable',
      since: iso(s?.since ?? 0),
      lastContact: s?.lastContact === undefined ? null : iso(s.lastContact),
      ...(s?.lastError ? { lastError: s.lastError } : {}),
      hostIp: e.hostIp,
      addressMode: e.addressMode ?? 'host',
      labels: { ...(e.labels ?? {}) },
      capacity: e.capacity ?? null,
      instances: listed ? Object.values(apps).reduce((a, b) => a + b, 0) : null,
      apps,
    };
  });
}
