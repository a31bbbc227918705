export {
  createLogger,
  type Logger,
  type LoggerOptions,
  REDACTED_PATHS,
  silentLogger,
} from './create-logger.ts';
