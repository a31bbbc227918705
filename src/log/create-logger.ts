import { type Logger, pino } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino blanks before a line is written. Secret values must never reach a log line;
 * adapters still log names and fingerprints only, this is the net under that rule.
 */
export const REDACTED_PATHS = [
  'token',
  'tokens',
  'password',
  'secret',
  'secrets',
  'authconfig',
  'auth',
  'authorization',
  '*.token',
  '*.password',
  '*.secret',
  '*.authconfig',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
];

export type LoggerOptions = {
  level?: string;
  /** Human-readable output; defaults to on when stdout is a TTY. */
  pretty?: boolean;
  /** Destination stream (tests capture the log stream through this). */
  destination?: NodeJS.WritableStream;
};

/** JSON logs for machines, pretty ones only on a terminal. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const base = {
    level: opts.level ?? 'info',
    base: { service: 'glint' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (opts.destination) return pino(base, opts.destination as pino.DestinationStream);
  const pretty = opts.pretty ?? Boolean(process.stdout.isTTY);
  if (pretty) {
    return pino({
      ...base,
      transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } },
    });
  }
  return pino(base);
}

/** A logger that drops everything, for unit tests and library callers that pass none. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
