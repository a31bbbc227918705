import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorHandler } from '../../../src/api/api-error.ts';
import { ApiErrorCode, createApi, HTTP_STATUS_BY_CODE } from '../../../src/api/index.ts';
import { ConfigErrorCode } from '../../../src/config/index.ts';
import { DockerErrorCode } from '../../../src/docker/index.ts';
import { GlintError, TransientError } from '../../../src/errors/index.ts';
import { EnvErrorCode, EtcdErrorCode, StateErrorCode } from '../../../src/etcd/index.ts';
import { HealthErrorCode } from '../../../src/health/index.ts';
import { silentLogger } from '../../../src/log/index.ts';
import { ReleaseErrorCode, RolloutErrorCode } from '../../../src/rollout/index.ts';

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
    name: 'a missing tag is 404',
    error: new GlintError(DockerErrorCode.TagNotFound, 'no tag 9.9.9'),
    status: 404,
    code: DockerErrorCode.TagNotFound,
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
  it('answers a write with 503 NotLeader, the leader and Retry-After', async () => {
    const app = createApi({
      log: silentLogger(),
      readiness: [],
      version: 'test',
      leadership: () => ({ isLeader: false, leader: 'http://10.0.0.3:7070' }),
    });
    const follower = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => follower.once('listening', resolve));
    try {
      const port = (follower.address() as AddressInfo).port;
      const res = await fetch(`http://127.0.0.1:${port}/v1/deployments`, { method: 'POST' });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(await res.json()).toMatchObject({
        error: { code: 'NotLeader', details: { leader: 'http://10.0.0.3:7070' } },
      });
    } finally {
      await new Promise((resolve) => follower.close(resolve));
    }
  });
});
