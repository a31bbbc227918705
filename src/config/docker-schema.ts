import { z } from 'zod';
import { NAME_LABEL } from '../placement/index.ts';
import { duration, port } from './field-types.ts';

/** Label keys on endpoints, as on containers: what placement constraints and spread name. */
export const endpointLabelKey = z
  .string()
  .regex(
    /^[A-Za-z0-9]([A-Za-z0-9._/-]*[A-Za-z0-9])?$/,
    "label keys are letters, digits, '.', '_', '-' and '/', e.g. 'zone'",
  )
  .refine((k) => k !== NAME_LABEL, {
    message: "'name' is the endpoint's own name in placement constraints (name=node-a); pick another key",
  });

const ENGINE_URL_HINT =
  "expected 'tcp://host:port' or 'https://host:port' (TLS), 'http://host:port' (plain), or 'ssh://user@host[:port]'";

/** The URL forms an engine is reached at; the scheme decides how (see `engineFor`). */
const engineUrl = z.string().superRefine((text, ctx) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: `'${text}' is not a URL; ${ENGINE_URL_HINT}` });
    return;
  }
  const scheme = url.protocol.slice(0, -1);
  if (!['tcp', 'http', 'https', 'ssh'].includes(scheme)) {
    ctx.addIssue({ code: 'custom', message: `scheme '${scheme}://' is not supported; ${ENGINE_URL_HINT}` });
  } else if (!url.hostname) {
    ctx.addIssue({ code: 'custom', message: `'${text}' names no host; ${ENGINE_URL_HINT}` });
  } else if (scheme === 'ssh' && !url.username) {
    ctx.addIssue({
      code: 'custom',
      message: `an ssh endpoint names its user, e.g. 'ssh://deploy@${url.host}'`,
    });
  } else if (scheme === 'tcp' && !url.port) {
    ctx.addIssue({
      code: 'custom',
      message: `a tcp endpoint names its port, e.g. 'tcp://${url.hostname}:2376'`,
    });
  } else if (scheme !== 'ssh' && url.username) {
    ctx.addIssue({ code: 'custom', message: 'only ssh:// endpoints take a user; remove it from the URL' });
  }
});

const filePath = z.string().min(1, 'expected a file path');

export const dockerEndpointSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9-]+$/, 'endpoint names are lowercase letters, digits and -'),
    socketPath: z.string().optional(),
    /** A remote engine: 'tcp://10.0.0.5:2376' with `tls`, 'ssh://deploy@10.0.0.5', ... */
    url: engineUrl.optional(),
    /** Client certificate, key and the CA the engine's certificate is checked against (tcp/https). */
    tls: z.strictObject({ ca: filePath, cert: filePath, key: filePath }).optional(),
    /** Talk to a tcp:// or https:// engine without client certificates (tcp:// then is plain HTTP). */
    insecure: z.boolean().default(false),
    /** What placement constraints and spread read, e.g. { zone: 'eu-1' }. */
    labels: z.record(endpointLabelKey, z.string()).default({}),
    /** Most glint containers this engine runs, all apps together; unset: no limit. */
    capacity: z
      .number()
      .int('capacity must be a whole number')
      .positive('capacity must be above 0')
      .optional(),
    /** The address instances publish their ports on, and HAProxy reaches them at. */
    hostIp: z.ipv4().default('127.0.0.1'),
    /**
     * How HAProxy, probes and the registry reach this engine's instances. `host`: at a port
     * published on `hostIp` (works from any machine that reaches `hostIp`). `container`: at the
     * container's own IP on the engine's bridge network, with nothing published; only for an
     * engine on HAProxy's machine (or one whose bridge network HAProxy's machine routes to).
     * It skips Docker's port proxy, which costs each request a copy through a process of its own.
     */
    addressMode: z
      .enum(['host', 'container'], {
        error: "addressMode is 'host' (a published port on hostIp) or 'container' (the container's IP)",
      })
      .default('host'),
    /**
     * The address this engine's containers reach HAProxy at (they know it as `glint-lb`).
     * Unset: read from the engine at start (its default bridge network's gateway), which is
     * right when HAProxy runs on the engine's own machine.
     */
    serviceAddress: z
      .ipv4()
      .refine((ip) => !ip.startsWith('127.'), {
        message:
          "a 127.x address is each container's own loopback; use an address of HAProxy's machine that containers reach, e.g. the docker0 gateway '172.17.0.1'",
      })
      .optional(),
    /**
     * The ports handed to instances of apps with `network: 'host'` on this engine; keep them
     * free of the host's own services. Default 20000-32000, below Linux's ephemeral ports.
     */
    hostPorts: z
      .strictObject({ min: port, max: port })
      .refine((r) => r.min <= r.max, {
        message: 'hostPorts.min must not be above hostPorts.max, e.g. { min: 20000, max: 32000 }',
      })
      .optional(),
  })
  .superRefine(checkEndpointAccess);

type EndpointDraft = {
  socketPath?: string | undefined;
  url?: string | undefined;
  tls?: unknown;
  insecure: boolean;
};

/** How the engine is reached must be unambiguous, and never plain text unless asked for. */
function checkEndpointAccess(e: EndpointDraft, ctx: z.RefinementCtx): void {
  const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  if (e.socketPath && e.url) {
    issue('url', 'set either socketPath or url, not both');
    return;
  }
  const scheme = e.url ? schemeOf(e.url) : undefined;
  if (scheme !== 'tcp' && scheme !== 'https') {
    if (e.tls) issue('tls', 'tls applies to tcp:// and https:// endpoints only; remove it or use such a url');
    if (e.insecure) issue('insecure', 'insecure applies to tcp:// and https:// endpoints only; remove it');
  } else if (e.tls && e.insecure) {
    issue('insecure', 'set either tls or insecure: true, not both');
  } else if (!e.tls && !e.insecure) {
    const plain =
      scheme === 'tcp'
        ? 'talk plain HTTP to the engine (anyone who reaches its port can run containers on it)'
        : 'connect without a client certificate';
    issue(
      'tls',
      `${scheme}:// needs client certificates: set tls: { ca, cert, key } (file paths), or insecure: true to ${plain}`,
    );
  }
}

function schemeOf(url: string): string | undefined {
  try {
    return new URL(url).protocol.slice(0, -1);
  } catch {
    return undefined;
  }
}

export const dockerSchema = z
  .strictObject({
    endpoints: z
      .array(dockerEndpointSchema)
      .min(1, 'declare at least one Docker endpoint')
      .superRefine((endpoints, ctx) => {
        const seen = new Set<string>();
        endpoints.forEach((e, i) => {
          if (seen.has(e.name))
            ctx.addIssue({
              code: 'custom',
              path: [i, 'name'],
              message: `endpoint name '${e.name}' is used twice; give each endpoint its own name`,
            });
          seen.add(e.name);
        });
      }),
    /** An engine that has not answered a ping for this long is down: nothing is placed on it. */
    nodeDownAfter: duration.prefault('30s'),
    /** How often each engine is pinged. */
    pingInterval: duration.prefault('5s'),
  })
  .superRefine((docker, ctx) => {
    if (docker.pingInterval >= docker.nodeDownAfter)
      ctx.addIssue({
        code: 'custom',
        path: ['pingInterval'],
        message:
          'pingInterval must be shorter than nodeDownAfter, or one late ping marks an engine down; e.g. 5s and 30s',
      });
  })
  .prefault({ endpoints: [{ name: 'local', socketPath: '/var/run/docker.sock' }] });

export type DockerEndpoint = z.output<typeof dockerEndpointSchema>;
