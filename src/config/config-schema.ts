import { z } from 'zod';
import { appSchema } from './app-schema.ts';
import { checkApps } from './check-apps.ts';
import { dockerSchema } from './docker-schema.ts';
import { duration, listenAddress, secretSource } from './field-types.ts';
import { defaultHaproxyRunDir } from './haproxy-run-dir.ts';

const APP_NAME = /^[a-z][a-z0-9-]{0,39}$/;
const REGISTRY_HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$/;

export const configSchema = z
  .strictObject({
    docker: dockerSchema,
    etcd: z
      .strictObject({
        endpoints: z.array(z.url({ error: "expected an URL such as 'http://127.0.0.1:2379'" })).min(1),
        prefix: z
          .string()
          .regex(
            /^\/[A-Za-z0-9_/-]*[A-Za-z0-9_-]$/,
            "expected a key prefix such as '/glint' (leading /, no trailing /)",
          )
          .default('/glint'),
        username: z.string().optional(),
        password: secretSource.optional(),
        leaseTtl: duration.prefault('10s'),
      })
      .prefault({ endpoints: ['http://127.0.0.1:2379'] }),
    registries: z
      .record(
        z.string().regex(REGISTRY_HOST, "registry keys are 'host' or 'host:port', e.g. '127.0.0.1:5000'"),
        z.strictObject({
          insecure: z.boolean().default(false),
          username: z.string().optional(),
          password: secretSource.optional(),
        }),
      )
      .default({}),
    haproxy: z
      .strictObject({
        /** Holds haproxy.cfg, the admin and master sockets and the server-state file; one per machine. */
        runDir: z
          .string()
          .min(1)
          .default(() => defaultHaproxyRunDir()),
        /** Name of the HAProxy container, for `haproxy -c` through docker exec when no binary is local. */
        container: z.string().default('glint-haproxy'),
        /** A shared frontend that routes by Host header. */
        sharedFrontend: listenAddress.optional(),
        hardStopAfter: duration.prefault('60s'),
        timeouts: z
          .strictObject({
            connect: duration.prefault('2s'),
            client: duration.prefault('30s'),
            server: duration.prefault('30s'),
          })
          .prefault({}),
      })
      .prefault({}),
    api: z
      .strictObject({
        listen: listenAddress.default('127.0.0.1:7070'),
        /** Where the admin token is generated when none is given. */
        tokenFile: z.string().default('.glint/api-token'),
        tokens: z
          .array(
            z.strictObject({
              name: z.string().min(1),
              role: z.enum(['admin', 'deploy', 'read']),
              token: secretSource,
            }),
          )
          .default([]),
      })
      .prefault({}),
    /** The control loop that heals what dies or drifts between deployments. */
    reconcile: z
      .strictObject({
        /** A full pass this often; engine events trigger one of their app at once. */
        interval: duration.prefault('10s'),
        /** Containers of an app no longer declared are drained and removed after this long. */
        undeclaredGrace: duration.prefault('5m'),
      })
      .prefault({}),
    apps: z.record(
      z
        .string()
        .regex(APP_NAME, 'app names are lowercase letters, digits and -, starting with a letter (max 40)'),
      appSchema,
    ),
  })
  .superRefine(checkApps);

export type GlintConfig = z.output<typeof configSchema>;
export type GlintConfigInput = z.input<typeof configSchema>;
