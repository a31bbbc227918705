import { z } from 'zod';
import { CONSTRAINT_SYNTAX, parseConstraint } from '../placement/index.ts';
import { endpointLabelKey } from './docker-schema.ts';
import { budget, byteSize, cronExpression, duration, port, timezone } from './field-types.ts';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The labels glint puts on every container and reads back to know it (the docker room's
 * GLINT_LABELS; a unit test keeps the two lists equal). An app may add labels, never these.
 */
export const GLINT_OWN_LABELS: readonly string[] = [
  'glint.managed',
  'glint.app',
  'glint.instance',
  'glint.version',
  'glint.digest',
  'glint.spec',
  'glint.deployment',
  'glint.revision',
  'glint.config-revision',
  'glint.env-fingerprint',
  'glint.port',
];

const labelKey = z
  .string()
  .regex(
    /^[A-Za-z0-9]([A-Za-z0-9._/-]*[A-Za-z0-9])?$/,
    "label keys are letters, digits, '.', '_', '-' and '/', e.g. 'com.example.team'",
  )
  .refine((k) => !GLINT_OWN_LABELS.includes(k), {
    error: (issue) => `label '${String(issue.input)}' is glint's own and cannot be set; pick another key`,
  });

const healthTiming = {
  interval: duration.prefault('1s'),
  timeout: duration.prefault('1s'),
  healthyThreshold: z.number().int().min(1).max(20).default(2),
  unhealthyThreshold: z.number().int().min(1).max(20).default(3),
  gracePeriod: duration.prefault('0s'),
};

/** Which probe decides that an instance is healthy. HTTP is preferred: Docker's port proxy accepts TCP before the app listens. */
export const healthSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({
      type: z.literal('http'),
      path: z.string().startsWith('/', "an HTTP health path starts with '/', e.g. '/healthz'"),
      expectStatus: z
        .string()
        .regex(/^[1-5]\d\d(-[1-5]\d\d)?$/, "expected a status or range such as '200' or '200-399'")
        .default('200-399'),
      ...healthTiming,
    }),
    z.strictObject({ type: z.literal('tcp'), ...healthTiming }),
    z.strictObject({ type: z.literal('exec'), command: z.array(z.string().min(1)).min(1), ...healthTiming }),
    z.strictObject({ type: z.literal('docker'), ...healthTiming }),
  ],
  { error: "health.type must be one of 'http', 'tcp', 'exec', 'docker'" },
);

export const strategySchema = z.strictObject({
  maxSurge: budget.default(1),
  maxUnavailable: budget.default(0),
  minHealthyTime: duration.prefault('5s'),
  healthyDeadline: duration.prefault('60s'),
  progressDeadline: duration.prefault('10m'),
  drainTimeout: duration.prefault('30s'),
  stopTimeout: duration.prefault('10s'),
  onFailure: z.enum(['rollback', 'pause']).default('rollback'),
  canary: z.number().int().min(0).default(0),
  autoPromoteAfter: duration.optional(),
});

export const rotationSchema = z.strictObject({
  cron: cronExpression.optional(),
  timezone: timezone.prefault('UTC'),
  maxAge: duration.optional(),
  jitter: duration.prefault('0s'),
});

export const routingSchema = z.strictObject({
  /** A frontend of its own on this port. */
  frontendPort: port.optional(),
  bind: z.string().default('127.0.0.1'),
  /**
   * The app's writes are idempotent: HAProxy may resend a POST, PUT, PATCH or DELETE to another
   * instance when the one it went to died with it (a kill, an OOM). Off, only reads are resent.
   */
  retryWrites: z.boolean().default(false),
  /** Host names routed to this app on the shared frontend. */
  hosts: z
    .array(z.string().regex(/^[A-Za-z0-9*.-]+$/, 'expected a host name such as web.example.com'))
    .default([]),
});

/**
 * What an app's containers may do beyond glint's baseline (every capability dropped, no new
 * privileges). Only the declaration sets these; no API request reaches them.
 */
export const securitySchema = z.strictObject({
  /** `uid`, `uid:gid` or a user name known to the image. */
  user: z
    .string()
    .regex(
      /^[A-Za-z0-9_][A-Za-z0-9_.-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?$/,
      "expected a user such as '1000' or '1000:1000'",
    )
    .optional(),
  readOnlyRootFilesystem: z.boolean().optional(),
  /** Capabilities given back after dropping all, e.g. ['NET_BIND_SERVICE']. */
  capAdd: z
    .array(z.string().regex(/^[A-Z][A-Z_]*$/, "expected a capability name such as 'NET_BIND_SERVICE'"))
    .optional(),
});

/** Which Docker endpoints the app's instances may run on, and how they spread over them. */
export const placementSchema = z.strictObject({
  /** Each must hold on an endpoint's labels (or `name`), e.g. ['zone!=eu-2', 'disk=ssd']. */
  constraints: z
    .array(
      z.string().refine((text) => parseConstraint(text) !== undefined, {
        error: (issue) => `'${String(issue.input)}' is not a constraint; write ${CONSTRAINT_SYNTAX}`,
      }),
    )
    .default([]),
  /** An endpoint label whose values get the app's instances evenly, e.g. 'zone'. */
  spread: endpointLabelKey.optional(),
});

export const appSchema = z.strictObject({
  /** Repository without tag or digest; the version is chosen per deploy. */
  image: z
    .string()
    .regex(
      /^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)+$|^[a-z0-9._-]+(\/[a-z0-9._-]+)*$/,
      "expected an image repository without tag or digest, e.g. '127.0.0.1:5000/demo-app'; put the version in 'version'",
    ),
  /** A semver version (tag), 'latest' for the highest stamped semver tag, or a digest. */
  version: z
    .string()
    .regex(
      /^(latest|v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?|sha256:[0-9a-f]{64})$/,
      "expected a semver version such as '1.2.0', 'latest', or a digest 'sha256:...'",
    ),
  /** Other repositories a deploy's `{image}` may name for this app (a mirror, a hotfix build). */
  allowedImages: z
    .array(
      z
        .string()
        .regex(
          /^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)+$|^[a-z0-9._-]+(\/[a-z0-9._-]+)*$/,
          "expected an image repository without tag or digest, e.g. '127.0.0.1:5000/demo-app-hotfix'",
        ),
    )
    .default([]),
  allowPrerelease: z.boolean().default(false),
  requireStamp: z.boolean().default(true),
  instances: z.number().int('instances must be a whole number').min(0).max(100),
  port,
  /**
   * `bridge`: each container has its own network namespace and listens on `port`. `host`: it
   * shares the host's network stack (Marathon's and Nomad's host networking) and listens on a
   * port glint picks from the endpoint's `hostPorts` and passes as `PORT`; it starts faster
   * (no namespace to make, no bridge) and nothing copies its traffic, but it also sees every
   * service the host listens on, loopback included, and is reached on every host address.
   */
  network: z
    .enum(['bridge', 'host'], {
      error: "network is 'bridge' (the default) or 'host' (the host's network, the port passed as PORT)",
    })
    .default('bridge'),
  env: z
    .record(
      z
        .string()
        .regex(ENV_NAME, 'environment variable names are letters, digits and _, not starting with a digit'),
      z.string(),
    )
    .default({}),
  /** Extra labels on every container of the app (a team's, a test run's), beside glint's own. */
  labels: z.record(labelKey, z.string()).default({}),
  etcdConfig: z.boolean().default(true),
  /**
   * What a change of the app's env in etcd does: `rotate` rolls it out as a `config`
   * deployment, `none` only records it on the app. `ignore` is an older spelling of `none`.
   */
  onConfigChange: z
    .enum(['rotate', 'none', 'ignore'])
    .default('rotate')
    .transform((v) => (v === 'ignore' ? 'none' : v)),
  resources: z
    .strictObject({
      memory: byteSize.optional(),
      cpus: z.number().positive('cpus must be above 0, e.g. 0.5').max(64).optional(),
    })
    .prefault({}),
  health: healthSchema,
  strategy: strategySchema.prefault({}),
  rotation: rotationSchema.prefault({}),
  routing: routingSchema.prefault({}),
  security: securitySchema.optional(),
  placement: placementSchema.prefault({}),
});

export type AppConfig = z.output<typeof appSchema>;
export type AppConfigInput = z.input<typeof appSchema>;
export type HealthConfig = AppConfig['health'];
export type StrategyConfig = AppConfig['strategy'];
export type PlacementConfig = AppConfig['placement'];
