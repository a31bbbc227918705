import { GlintError } from '../errors/index.ts';
import { type EnvEntry, EnvErrorCode } from './env-vars.ts';

/** A registered instance as resolution needs it. */
export type ServiceAddress = { instance: string; host: string; port: number };

export type ServiceRef = { service: string; pick: 'all' | 'first'; text: string };

const REF = /\{\{\s*service:([^}]*)\}\}/g;
const REF_BODY = /^([A-Za-z0-9][A-Za-z0-9_-]*)(\.first)?$/;

/** The service references in one value; a malformed one is an error naming the key. */
export function parseServiceRefs(entry: EnvEntry): ServiceRef[] {
  const refs: ServiceRef[] = [];
  for (const match of entry.value.matchAll(REF)) {
    const body = (match[1] ?? '').trim();
    const parsed = REF_BODY.exec(body);
    if (!parsed) {
      throw new GlintError(
        EnvErrorCode.InvalidServiceReference,
        `${entry.source}: "${match[0]}" is not a service reference; write {{service:NAME}} or {{service:NAME.first}}`,
        { details: { key: entry.source, reference: match[0] } },
      );
    }
    refs.push({ service: parsed[1] ?? '', pick: parsed[2] ? 'first' : 'all', text: match[0] });
  }
  return refs;
}

/** Every service the entries reference, sorted, without duplicates. */
export function referencedServices(entries: Iterable<EnvEntry>): string[] {
  const names = new Set<string>();
  for (const entry of entries) for (const ref of parseServiceRefs(entry)) names.add(ref.service);
  return [...names].sort();
}

/** host:port of each instance, ordered by instance name so the result is stable. */
export function addressList(instances: readonly ServiceAddress[]): string[] {
  return [...instances]
    .sort((a, b) => (a.instance < b.instance ? -1 : a.instance > b.instance ? 1 : 0))
    .map((i) => `${i.host}:${i.port}`);
}

/**
 * Replaces every reference in one value. `services` maps a service to its ready instances;
 * a service with none is an error naming the key and the service, raised before any
 * container is touched.
 */
export function expandServiceRefs(
  entry: EnvEntry,
  services: ReadonlyMap<string, readonly ServiceAddress[]>,
): string {
  let value = entry.value;
  for (const ref of parseServiceRefs(entry)) {
    const addresses = addressList(services.get(ref.service) ?? []);
    if (addresses.length === 0) {
      throw new GlintError(
        EnvErrorCode.ServiceReferenceUnresolved,
        `${entry.source} references service "${ref.service}", which has no ready instance; deploy ${ref.service} first or change the reference`,
        { details: { key: entry.source, service: ref.service } },
      );
    }
    value = value.replace(ref.text, ref.pick === 'first' ? (addresses[0] ?? '') : addresses.join(','));
  }
  return value;
}
