export { GlintError, isTransient, TransientError } from './glint-error.ts';
