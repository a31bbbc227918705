import { type Logger, pino } from 'pino';
import { redactSecrets, scrubText } from './redact.ts';

export type { Logger } from 'pino';

export type LoggerOptions = {
  level?: string;
  /** Human-readable output; defaults to on when stdout is a TTY. */
  pretty?: boolean;
  /** Destination stream (tests capture the log stream through this). */
  destination?: NodeJS.WritableStream;
};

/** JSON logs for machines, pretty ones only on a terminal. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const base: pino.LoggerOptions = {
    level: opts.level ?? 'info',
    base: { service: 'glint' },
    // Secret values must never reach a log line. Adapters log names and fingerprints only;
    // this is the net under that rule. It works by structure (secret-named keys and env values
    // at any depth, secrets written into text), since pino's redact paths have a fixed depth.
    formatters: {
      log: (object) => redactSecrets(object) as Record<string, unknown>,
      bindings: (bindings) => redactSecrets(bindings) as Record<string, unknown>,
    },
    // Errors are serialized (and cleaned) by the log formatter already.
    serializers: { err: (err: unknown) => (err instanceof Error ? redactSecrets(err) : err) },
    hooks: {
      // The message and its interpolation arguments are text too; a lone error's message
      // becomes the line's message, so it is given cleaned.
      logMethod(args, method) {
        const scrubbed = args.map((arg) => (typeof arg === 'string' ? scrubText(arg) : arg));
        const [first, second] = scrubbed;
        if (first instanceof Error && typeof second !== 'string')
          scrubbed.splice(1, 0, scrubText(first.message));
        return method.apply(this, scrubbed as Parameters<typeof method>);
      },
    },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (opts.destination) return redactChildBindings(pino(base, opts.destination as pino.DestinationStream));
  const pretty = opts.pretty ?? Boolean(process.stdout.isTTY);
  if (pretty) {
    return redactChildBindings(
      pino({
        ...base,
        transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } },
      }),
    );
  }
  return redactChildBindings(pino(base));
}

/**
 * pino applies `formatters.bindings` to the root logger only, so a child's bindings are
 * cleaned here. Children are made with `Object.create(parent)`, so every descendant inherits
 * this `child`.
 */
function redactChildBindings(logger: Logger): Logger {
  const child = logger.child;
  logger.child = function (this: Logger, bindings, options) {
    return child.call(this, redactSecrets(bindings) as typeof bindings, options);
  } as Logger['child'];
  return logger;
}

/** A logger that drops everything, for unit tests and library callers that pass none. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
