import { z } from 'zod';
import { STREAMED_EVENT_TYPES } from './event-stream.ts';
import {
  appName,
  deployBody,
  deploymentGetQuery,
  deploymentId,
  deploymentListQuery,
  eventsQuery,
  idempotencyKey,
  rollbackBody,
  rotationBody,
  scaleBody,
} from './request-schemas.ts';

/** JSON Schema of what a client sends (a schema's input side), without the `$schema` line. */
function schemaOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return rest;
}

type Operation = Record<string, unknown>;

const ERROR = { $ref: '#/components/responses/Error' };
const errors = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [String(s), ERROR]));
const json = (description: string) => ({ description, content: { 'application/json': {} } });

function queryParams(schema: z.ZodObject): unknown[] {
  return Object.entries(schema.shape).map(([name, field]) => ({
    name,
    in: 'query',
    required: false,
    schema: schemaOf(field as z.ZodType),
  }));
}

const appParam = { name: 'app', in: 'path', required: true, schema: schemaOf(appName) };
const idParam = { name: 'id', in: 'path', required: true, schema: schemaOf(deploymentId) };
const keyHeader = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description: 'A retried request with the same key gets the deployment the first one started.',
  schema: schemaOf(idempotencyKey),
};

function start(summary: string, body: z.ZodType, role: string): Operation {
  return {
    summary,
    description: `Needs the ${role} role. Checked before anything changes.`,
    parameters: [appParam, keyHeader],
    requestBody: { required: false, content: { 'application/json': { schema: schemaOf(body) } } },
    responses: {
      '202': {
        ...json('The deployment, started (or found again by its Idempotency-Key).'),
        headers: { Location: { schema: { type: 'string' } } },
      },
      ...errors(400, 401, 403, 404, 409, 413, 415, 422, 503),
    },
  };
}

function control(action: string): Operation {
  return {
    summary: `${action} a running deployment`,
    parameters: [idParam],
    responses: { '200': json('The deployment after the change.'), ...errors(400, 401, 403, 404, 409, 503) },
  };
}

/** Every route: parameters and bodies from the request schemas, answers by status. */
function paths(): Record<string, unknown> {
  return {
    '/v1/apps': {
      get: { summary: 'apps and their state', responses: { '200': json('Apps.'), ...errors(401) } },
    },
    '/v1/apps/{app}': {
      get: {
        summary: 'one app with its instances and last versions',
        parameters: [appParam],
        responses: { '200': json('The app.'), ...errors(400, 401, 404) },
      },
    },
    '/v1/apps/{app}/deployments': { post: start('deploy a version', deployBody, 'deploy') },
    '/v1/apps/{app}/rotations': {
      post: start('replace every instance by a fresh one', rotationBody, 'deploy'),
    },
    '/v1/apps/{app}/rollback': { post: start('go back to an earlier version', rollbackBody, 'deploy') },
    '/v1/apps/{app}/scale': { put: start('change the instance count', scaleBody, 'deploy') },
    '/v1/nodes': {
      get: {
        summary: 'the Docker engines: state, last contact, labels and instances',
        responses: { '200': json('Nodes.'), ...errors(401) },
      },
    },
    '/v1/deployments': {
      get: {
        summary: 'recent deployments, newest first',
        parameters: queryParams(deploymentListQuery),
        responses: { '200': json('Deployments.'), ...errors(400, 401, 404) },
      },
    },
    '/v1/deployments/{id}': {
      get: {
        summary: 'one deployment; with ?wait= it answers once the deployment ends or the wait runs out',
        parameters: [idParam, ...queryParams(deploymentGetQuery)],
        responses: { '200': json('The deployment.'), ...errors(400, 401, 404) },
      },
    },
    ...Object.fromEntries(
      ['pause', 'resume', 'cancel', 'promote'].map((a) => [
        `/v1/deployments/{id}/${a}`,
        { post: control(a) },
      ]),
    ),
    '/v1/events': {
      get: {
        summary:
          'Server-Sent Events of deployments, steps, instances, rotations and config changes, on any daemon; Last-Event-ID resumes',
        description: `Event types: ${STREAMED_EVENT_TYPES.join(', ')}. \`types\` takes types or namespaces (\`deployment\`).`,
        parameters: [
          ...queryParams(eventsQuery),
          { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string' } },
        ],
        responses: {
          '200': { description: 'An event stream.', content: { 'text/event-stream': {} } },
          ...errors(400, 401),
        },
      },
    },
    '/healthz': { get: { security: [], summary: 'the process serves', responses: { '200': json('ok') } } },
    '/readyz': {
      get: {
        security: [],
        summary: 'Docker, HAProxy and etcd answer; who leads',
        responses: { '200': json('ready'), '503': json('not ready') },
      },
    },
  };
}

const COMPONENTS = {
  securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
  responses: {
    Error: {
      description: 'An error: a stable code, a message saying what to do, details.',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    },
  },
  schemas: {
    Error: {
      type: 'object',
      required: ['error'],
      properties: {
        error: {
          type: 'object',
          required: ['code', 'message'],
          properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
        },
      },
    },
  },
};

/** `GET /openapi.json`, generated from the same zod schemas that validate the requests. */
export function openApiDocument(version: string): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: { title: 'glint', version, description: 'Deploy, roll back, scale and watch apps run by glint.' },
    security: [{ bearer: [] }],
    paths: paths(),
    components: COMPONENTS,
  };
}
