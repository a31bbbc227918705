import cron from 'node-cron';
import { z } from 'zod';
import { BYTE_SIZE_HINT, parseByteSize } from './byte-size.ts';
import { DURATION_HINT, parseDuration } from './duration.ts';

/** A duration string, parsed to milliseconds. */
export const duration = z
  .string({ error: `expected a duration string; ${DURATION_HINT}` })
  .transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `invalid duration '${text}'; ${DURATION_HINT}` });
      return z.NEVER;
    }
    return ms;
  });

export const byteSize = z
  .string({ error: `expected a size string; ${BYTE_SIZE_HINT}` })
  .transform((text, ctx) => {
    const bytes = parseByteSize(text);
    if (bytes === undefined || bytes < 4 * 1024 * 1024) {
      ctx.addIssue({
        code: 'custom',
        message: `invalid memory size '${text}'; ${BYTE_SIZE_HINT} (Docker needs at least 4m)`,
      });
      return z.NEVER;
    }
    return bytes;
  });

/** A count or a percentage of the desired instances, as Kubernetes' maxSurge/maxUnavailable. */
const BUDGET_HINT = "expected a whole number (e.g. 1) or a percentage of instances (e.g. '25%')";
export const budget = z.union(
  [z.number().int(BUDGET_HINT).min(0, BUDGET_HINT), z.string().regex(/^\d{1,3}%$/, BUDGET_HINT)],
  {
    error: BUDGET_HINT,
  },
);

export const port = z
  .number({ error: 'expected a port number between 1 and 65535' })
  .int('expected a whole port number')
  .min(1, 'ports start at 1')
  .max(65535, 'ports end at 65535');

/** host:port, as in "127.0.0.1:8080". */
export const listenAddress = z
  .string()
  .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, "expected 'host:port', e.g. '127.0.0.1:7070'")
  .refine((addr) => {
    const p = Number(addr.split(':')[1]);
    return p >= 1 && p <= 65535;
  }, 'the port must be between 1 and 65535');

export const cronExpression = z.string().superRefine((expr, ctx) => {
  const result = cron.validateDetailed(expr);
  if (!result.valid) {
    const why = result.errors.map((e: { message: string }) => e.message).join('; ');
    ctx.addIssue({
      code: 'custom',
      message: `invalid cron expression '${expr}': ${why}; expected 5 fields (minute hour day month weekday), e.g. '0 3 * * *'`,
    });
  }
});

export const timezone = z.string().superRefine((tz, ctx) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    ctx.addIssue({
      code: 'custom',
      message: `unknown time zone '${tz}'; use an IANA name such as 'UTC' or 'Europe/Berlin'`,
    });
  }
});

/** Secret values never live in the file: they are read from an environment variable or a file. */
export const secretSource = z.union(
  [
    z.strictObject({ fromEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/) }),
    z.strictObject({ fromFile: z.string().min(1) }),
  ],
  {
    error:
      "expected { fromEnv: 'VARIABLE' } or { fromFile: 'path' }; secrets are never written in the config",
  },
);
export type SecretSource = z.infer<typeof secretSource>;
