import {
  findServiceReferences,
  readsInstances,
  SERVICE_REFERENCE_FORMS,
  type ServiceFrontends,
  type ServiceReference,
  ServiceReferenceForm,
  stableReferenceProblem,
  stableServiceAddress,
} from '../config/index.ts';
import { GlintError } from '../errors/index.ts';
import { type EnvEntry, EnvErrorCode } from './env-vars.ts';

/** A registered instance as resolution needs it. */
export type ServiceAddress = { instance: string; host: string; port: number };

/** What references expand against: the declared frontends, and the ready instances of each service. */
export type ServiceSources = {
  frontends: ServiceFrontends;
  instances: ReadonlyMap<string, readonly ServiceAddress[]>;
};

/** The service references in one value; a malformed one is an error naming the key. */
export function parseServiceRefs(entry: EnvEntry): ServiceReference[] {
  const { references, malformed } = findServiceReferences(entry.value);
  const [first] = malformed;
  if (first !== undefined) {
    throw new GlintError(
      EnvErrorCode.InvalidServiceReference,
      `${entry.source}: "${first}" is not a service reference; write ${SERVICE_REFERENCE_FORMS}`,
      { details: { key: entry.source, reference: first } },
    );
  }
  return references;
}

/** Every service the entries reference (any form), sorted, without duplicates. */
export function referencedServices(entries: Iterable<EnvEntry>): string[] {
  const names = new Set<string>();
  for (const entry of entries) for (const ref of parseServiceRefs(entry)) names.add(ref.service);
  return [...names].sort();
}

/**
 * The services whose ready instances the entries read (`.instances`, `.first`): only these make
 * the value change when the service's instances do. Stable references are left out.
 */
export function servicesWhoseInstancesAreRead(entries: Iterable<EnvEntry>): string[] {
  const names = new Set<string>();
  for (const entry of entries)
    for (const ref of parseServiceRefs(entry)) if (readsInstances(ref)) names.add(ref.service);
  return [...names].sort();
}

/** host:port of each instance, ordered by instance name so the result is stable. */
export function addressList(instances: readonly ServiceAddress[]): string[] {
  return [...instances]
    .sort((a, b) => (a.instance < b.instance ? -1 : a.instance > b.instance ? 1 : 0))
    .map((i) => `${i.host}:${i.port}`);
}

/**
 * Replaces every reference in one value, before any container is touched. A stable reference
 * becomes `glint-lb:<frontendPort>` whatever the service's instances (HAProxy answers 503 until
 * one is ready); a raw one becomes its ready instances and fails when there is none. Errors
 * name the key, the service and the fix.
 */
export function expandServiceRefs(entry: EnvEntry, sources: ServiceSources): string {
  let value = entry.value;
  for (const ref of parseServiceRefs(entry)) value = value.replace(ref.text, expandOne(entry, ref, sources));
  return value;
}

function expandOne(entry: EnvEntry, ref: ServiceReference, sources: ServiceSources): string {
  if (ref.form === ServiceReferenceForm.Stable) {
    const problem = stableReferenceProblem(ref.service, sources.frontends);
    const port = sources.frontends.get(ref.service);
    if (problem || port === undefined) {
      throw new GlintError(EnvErrorCode.ServiceFrontendUnknown, `${entry.source}: ${problem}`, {
        details: { key: entry.source, service: ref.service },
      });
    }
    return stableServiceAddress(port);
  }
  const addresses = addressList(sources.instances.get(ref.service) ?? []);
  if (addresses.length === 0) {
    throw new GlintError(
      EnvErrorCode.ServiceReferenceUnresolved,
      `${entry.source} references the instances of service "${ref.service}", which has no ready instance; deploy ${ref.service} first, or use {{service:${ref.service}}} (its HAProxy frontend)`,
      { details: { key: entry.source, service: ref.service } },
    );
  }
  return ref.form === ServiceReferenceForm.First ? (addresses[0] ?? '') : addresses.join(',');
}
