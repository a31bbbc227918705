import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorHandler } from '../../../src/api/api-error.ts';
import { framingAnswerOf } from '../../../src/api/error-status.ts';
import { ApiErrorCode, HTTP_STATUS_BY_CODE } from '../../../src/api/index.ts';
import { ConfigErrorCode } from '../../../src/config/index.ts';
import { DockerErrorCode } from '../../../src/docker/index.ts';
import { GlintError, TransientError } from '../../../src/errors/index.ts';
import { EnvErrorCode, EtcdErrorCode, StateErrorCode } from '../../../src/etcd/index.ts';
import { HealthErrorCode } from '../../../src/health/index.ts';
import { silentLogger } from '../../../src/log/index.ts';
import { ReleaseErrorCode, RolloutErrorCode } from '../../../src/rollout/index.ts';
import { startApiWorld, TOKENS } from './api-world.ts';

type Row = {
  name: string;
  error: unknown;
  status: number;
  code: string;
  retryAfter?: string;
  details?: Record<string, unknown>;
  /** The message must not reach the client. */
  hidesMessage?: boolean;
};

const rows: Row[] = [
  {
    name: 'a NotLeader from below the API names the current leader',
    error: new GlintError(ApiErrorCode.NotLeader, 'this daemon is not the leader'),
    status: 503,
    code: 'NotLeader',
    retryAfter: '1',
    details: { leader: 'http://10.0.0.2:7070' },
  },
  {
    name: 'transient trouble asks the client to retry later',
    error: new TransientError(EtcdErrorCode.Unavailable, 'etcd did not answer'),
    status: 503,
    code: EtcdErrorCode.Unavailable,
    retryAfter: '5',
  },
  {
    name: 'a transient error with a code of no table row is still a retryable 503',
    error: new TransientError('SomethingFlaky', 'try again'),
    status: 503,
    code: 'SomethingFlaky',
    retryAfter: '5',
  },
  {
    name: 'a state conflict is 409',
    error: new GlintError(StateErrorCode.Conflict, 'someone wrote first'),
    status: 409,
    code: StateErrorCode.Conflict,
  },
  {
    name: 'a deployment in progress is 409',
    error: new GlintError(StateErrorCode.DeploymentInProgress, 'one at a time'),
    status: 409,
    code: StateErrorCode.DeploymentInProgress,
  },
  {
    name: 'a version that does not resolve is 422 with the resolver message',
    error: new GlintError(DockerErrorCode.TagNotFound, 'no tag 9.9.9; newest stamped: 1.1.0, 1.0.0'),
    status: 422,
    code: DockerErrorCode.TagNotFound,
  },
  {
    name: 'a stamp mismatch is 422',
    error: new GlintError(DockerErrorCode.StampMismatch, 'tag 1.2.0 is stamped 1.1.0'),
    status: 422,
    code: DockerErrorCode.StampMismatch,
  },
  {
    name: 'a bad declaration is 400 and keeps its issues',
    error: new GlintError(ConfigErrorCode.InvalidConfig, 'bad', { details: { issues: [] } }),
    status: 400,
    code: ConfigErrorCode.InvalidConfig,
    details: { issues: [] },
  },
  {
    name: 'no token is 401',
    error: new GlintError(ApiErrorCode.Unauthorized, 'send a token'),
    status: 401,
    code: 'Unauthorized',
  },
  {
    name: 'a token without the role is 403',
    error: new GlintError(ApiErrorCode.Forbidden, 'read tokens cannot deploy'),
    status: 403,
    code: 'Forbidden',
  },
  {
    name: 'a GlintError with an unplaced code is a 500 without its message',
    error: new GlintError('SomethingNew', 'internal detail /var/lib/secret-path'),
    status: 500,
    code: 'Internal',
    hidesMessage: true,
  },
  {
    name: 'a plain Error is a 500 without its message',
    error: new Error('ECONNREFUSED 10.0.0.9:2379 stack and all'),
    status: 500,
    code: 'Internal',
    hidesMessage: true,
  },
];

let base: string;
let server: ReturnType<ReturnType<typeof express>['listen']>;

beforeAll(async () => {
  const app = express();
  app.get('/fail/:row', (req, _res, next) => next(rows[Number(req.params.row)]!.error));
  app.use(errorHandler(silentLogger(), () => ({ leader: 'http://10.0.0.2:7070' })));
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('the API answers each error code with its status', () => {
  it.each(rows.map((row, i) => ({ ...row, i })))('$name', async (row) => {
    const res = await fetch(`${base}/fail/${row.i}`);
    expect(res.status).toBe(row.status);
    expect(res.headers.get('retry-after')).toBe(row.retryAfter ?? null);
    const body = (await res.json()) as { error: { code: string; message: string; details?: unknown } };
    expect(Object.keys(body)).toEqual(['error']);
    expect(body.error.code).toBe(row.code);
    if (row.details) expect(body.error.details).toEqual(row.details);
    const thrown = (row.error as Error).message;
    if (row.hidesMessage) expect(JSON.stringify(body)).not.toContain(thrown.split(' ').at(-1));
    else expect(body.error.message).toBe(thrown);
  });

  it('places every code of every room in the status table', () => {
    const codes = [
      ApiErrorCode,
      ConfigErrorCode,
      DockerErrorCode,
      HealthErrorCode,
      EtcdErrorCode,
      EnvErrorCode,
      StateErrorCode,
      RolloutErrorCode,
      ReleaseErrorCode,
    ].flatMap((codes) => Object.values(codes));
    expect(codes.filter((code) => HTTP_STATUS_BY_CODE[code] === undefined)).toEqual([]);
  });
});

describe('a follower', () => {
  it('answers an authenticated write with 503 NotLeader, the leader and Retry-After', async () => {
    const world = await startApiWorld({ isLeader: false });
    try {
      const res = await world.call('POST', '/v1/apps/web/deployments', {
        token: TOKENS.deploy,
        body: { version: '1.1.0' },
      });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.json).toMatchObject({
        error: { code: 'NotLeader', details: { leader: 'http://10.0.0.3:7070' } },
      });
      expect(world.store.deployments.size).toBe(0);
    } finally {
      await world.close();
    }
  });

  it('still serves reads', async () => {
    const world = await startApiWorld({ isLeader: false });
    try {
      const res = await world.call('GET', '/v1/apps', { token: TOKENS.read });
      expect(res.status).toBe(200);
      expect(res.json.apps.map((a: { name: string }) => a.name)).toEqual(['web']);
    } finally {
      await world.close();
    }
  });
});

const framingRows = [
  {
    name: 'a body that is not JSON',
    err: { type: 'entity.parse.failed', status: 400 },
    status: 400,
    code: 'InvalidJson',
  },
  {
    name: 'a body over the limit',
    err: { type: 'entity.too.large', status: 413 },
    status: 413,
    code: 'PayloadTooLarge',
  },
  {
    name: 'a compressed body',
    err: { type: 'encoding.unsupported', status: 415 },
    status: 415,
    code: 'UnsupportedMediaType',
  },
  {
    name: 'a body in another charset',
    err: { type: 'charset.unsupported', status: 415 },
    status: 415,
    code: 'UnsupportedMediaType',
  },
  {
    name: 'a path segment that does not decode',
    err: Object.assign(new URIError('bad'), { status: 400 }),
    status: 400,
    code: 'InvalidRequest',
  },
];

describe('errors raised while a request is read', () => {
  it.each(framingRows)('$name', (row) => {
    expect(framingAnswerOf(row.err)).toMatchObject({ status: row.status, code: row.code });
  });

  it('leaves every other error to the code table', () => {
    expect(framingAnswerOf(new GlintError(ApiErrorCode.Forbidden, 'no'))).toBeUndefined();
    expect(framingAnswerOf(new Error('boom'))).toBeUndefined();
    expect(framingAnswerOf(Object.assign(new Error('upstream'), { status: 502 }))).toBeUndefined();
  });
});
