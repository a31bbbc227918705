export { sendError } from './api-error.ts';
export type { ApiState, DeploymentChanges, NodeView } from './api-ports.ts';
export { closeApiServer, createApiServer } from './api-server.ts';
export { type ApiToken, TokenTable } from './api-tokens.ts';
export { type ApiDeps, createApi } from './create-api.ts';
export { ApiErrorCode } from './error-codes.ts';
export { HTTP_STATUS_BY_CODE, httpAnswerOf } from './error-status.ts';
export { nodeViews } from './node-views.ts';
export { checkReadiness, type ReadinessCheck, type ReadinessReport, untilAborted } from './readiness.ts';
