import { z } from 'zod';
import { budget, duration } from '../config/index.ts';
import { DeploymentState } from '../etcd/index.ts';

/**
 * One zod schema per request body, query and path parameter. The routes validate with them
 * and `/openapi.json` is generated from them, so the document can't drift from the checks.
 */

export const appName = z
  .string()
  .max(40, 'app names have at most 40 characters')
  .regex(/^[a-z][a-z0-9-]*$/, 'app names are lowercase letters, digits and -, starting with a letter')
  .meta({ description: 'A declared app, e.g. `web`.' });

/** `<app>-<yyyymmdd>T<hhmmss>-<4 hex>`, as the rollout engine names deployments. */
export const deploymentId = z
  .string()
  .max(64, 'deployment ids have at most 64 characters')
  .regex(
    /^[a-z][a-z0-9-]{0,39}-\d{8}T\d{6}-[0-9a-f]{4}$/,
    "expected a deployment id such as 'web-20260101T120000-ab12'",
  )
  .meta({ description: 'A deployment id as the API returned it.' });

const SEMVER_OR_LATEST = /^(latest|v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?)$/;

const version = z
  .string()
  .max(128, 'versions have at most 128 characters')
  .regex(SEMVER_OR_LATEST, "expected a semver version such as '1.2.0', or 'latest'");

const digest = z
  .string()
  .regex(/^sha256:[0-9a-f]{64}$/, "expected a digest 'sha256:' followed by 64 lowercase hex digits");

const image = z
  .string()
  .max(512, 'image references have at most 512 characters')
  .regex(
    /^[a-z0-9][a-z0-9._/:-]*(@sha256:[0-9a-f]{64})?$/,
    "expected the app's repository with a tag or digest, e.g. '127.0.0.1:5000/web:1.2.0'",
  );

const reason = z
  .string()
  .max(500, 'a reason has at most 500 characters')
  .meta({ description: 'Why, for people reading the deployment later.' });

/** The strategy fields one deployment may change; privileges never come from a request. */
export const strategyOverrides = z.strictObject({
  maxSurge: budget.optional(),
  maxUnavailable: budget.optional(),
  minHealthyTime: duration.optional(),
  healthyDeadline: duration.optional(),
  progressDeadline: duration.optional(),
  drainTimeout: duration.optional(),
  onFailure: z.enum(['rollback', 'pause']).optional(),
  canary: z.number().int('canary is a whole number').min(0).max(100).optional(),
  autoPromoteAfter: duration.optional(),
});

export const deployBody = z
  .strictObject({
    version: version.optional(),
    image: image.optional(),
    digest: digest.optional(),
    strategy: strategyOverrides.optional(),
    reason: reason.optional(),
  })
  .refine((b) => [b.version, b.image, b.digest].filter((v) => v !== undefined).length === 1, {
    message: "give exactly one of 'version', 'image' or 'digest'",
    path: ['version'],
  })
  .meta({ description: 'What to deploy: a version, an image of the app’s repository, or a digest.' });
export type DeployBody = z.output<typeof deployBody>;

export const rotationBody = z.strictObject({ reason: reason.optional() });

export const rollbackBody = z.strictObject({
  version: version.optional().meta({ description: 'A version the app ran; default: the previous one.' }),
  reason: reason.optional(),
});

export const scaleBody = z.strictObject({
  instances: z
    .number({ error: 'instances is a whole number from 0 to 100' })
    .int('instances is a whole number from 0 to 100')
    .min(0)
    .max(100),
  reason: reason.optional(),
});

const states = Object.values(DeploymentState) as [DeploymentState, ...DeploymentState[]];

export const deploymentListQuery = z.strictObject({
  app: appName.optional(),
  state: z.enum(states).optional(),
  limit: z.coerce
    .number({ error: 'limit is a whole number from 1 to 500' })
    .int('limit is a whole number from 1 to 500')
    .min(1)
    .max(500)
    .default(50),
});

export const MAX_WAIT_SECONDS = 300;

export const deploymentGetQuery = z.strictObject({
  wait: z.coerce
    .number({ error: `wait is a number of seconds from 0 to ${MAX_WAIT_SECONDS}` })
    .min(0)
    .max(MAX_WAIT_SECONDS)
    .optional()
    .meta({ description: 'Hold the answer until the deployment ends or this many seconds pass.' }),
});

export const eventsQuery = z.strictObject({
  types: z
    .string()
    .max(512)
    .regex(/^[a-z:,]*$/, "types is a comma-separated list such as 'deployment,step:failed'")
    .optional(),
  app: appName.optional(),
});

/** `Idempotency-Key`: printable ASCII, so it can be logged by length and stored as is. */
export const idempotencyKey = z
  .string()
  .min(1)
  .max(128, 'an Idempotency-Key has at most 128 characters')
  .regex(/^[\x21-\x7e]+$/, 'an Idempotency-Key is printable ASCII without spaces');
