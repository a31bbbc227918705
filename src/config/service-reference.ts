/**
 * The `{{service:x}}` language of env values, shared by the declaration's check (static env)
 * and env resolution (etcd keys), so both accept and refuse the same text with the same fix.
 */

/**
 * The host name every glint container resolves to the address its engine's containers reach
 * HAProxy at (`ExtraHosts`), so a stable reference reads the same on every engine.
 */
export const SERVICE_HOST = 'glint-lb';

export const ServiceReferenceForm = {
  /** `{{service:db}}`: db's HAProxy frontend, `glint-lb:<frontendPort>`; never changes with db's instances. */
  Stable: 'stable',
  /** `{{service:db.instances}}`: every ready instance's host:port, comma-separated. */
  Instances: 'instances',
  /** `{{service:db.first}}`: the first ready instance's host:port. */
  First: 'first',
} as const;
export type ServiceReferenceForm = (typeof ServiceReferenceForm)[keyof typeof ServiceReferenceForm];

export type ServiceReference = { service: string; form: ServiceReferenceForm; text: string };

export const SERVICE_REFERENCE_FORMS =
  '{{service:NAME}}, {{service:NAME.instances}} or {{service:NAME.first}}';

/** Each declared app and its `routing.frontendPort` (undefined when it has none). */
export type ServiceFrontends = ReadonlyMap<string, number | undefined>;

const REF = /\{\{\s*service:([^}]*)\}\}/g;
const REF_BODY = /^([A-Za-z0-9][A-Za-z0-9_-]*)(?:\.(instances|first))?$/;

/** The references in one value, and the `{{service:…}}` texts that are not references. */
export function findServiceReferences(value: string): {
  references: ServiceReference[];
  malformed: string[];
} {
  const references: ServiceReference[] = [];
  const malformed: string[] = [];
  for (const match of value.matchAll(REF)) {
    const parsed = REF_BODY.exec((match[1] ?? '').trim());
    if (!parsed) {
      malformed.push(match[0]);
      continue;
    }
    const form = (parsed[2] as ServiceReferenceForm | undefined) ?? ServiceReferenceForm.Stable;
    references.push({ service: parsed[1] ?? '', form, text: match[0] });
  }
  return { references, malformed };
}

/** Whether the reference's value follows the service's ready instances (and so must be watched). */
export function readsInstances(ref: ServiceReference): boolean {
  return ref.form !== ServiceReferenceForm.Stable;
}

/**
 * Why a stable reference to `service` can't be expanded, with the fix, or undefined when it
 * can. The caller puts the key or field path in front.
 */
export function stableReferenceProblem(service: string, frontends: ServiceFrontends): string | undefined {
  if (!frontends.has(service))
    return `{{service:${service}}} names no declared app; declare ${service} under apps, or correct the name`;
  if (frontends.get(service) === undefined)
    return `{{service:${service}}} needs a frontend of ${service}'s own; set apps.${service}.routing.frontendPort, or use {{service:${service}.instances}} for its instances' addresses`;
  return undefined;
}

/** The stable address of a service's HAProxy frontend, as containers write it. */
export function stableServiceAddress(frontendPort: number): string {
  return `${SERVICE_HOST}:${frontendPort}`;
}

/** Each app's frontend port, as references see it. */
export function serviceFrontendsOf(
  apps: Readonly<Record<string, { routing: { frontendPort?: number | undefined } }>>,
): ServiceFrontends {
  return new Map(Object.entries(apps).map(([name, app]) => [name, app.routing.frontendPort]));
}
