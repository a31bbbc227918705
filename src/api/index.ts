export { sendError } from './api-error.ts';
export { type ApiDeps, createApi } from './create-api.ts';
export { checkReadiness, type ReadinessCheck, type ReadinessReport, untilAborted } from './readiness.ts';
