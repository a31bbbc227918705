export {
  createLogger,
  type Logger,
  type LoggerOptions,
  silentLogger,
} from './create-logger.ts';
