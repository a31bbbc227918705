import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ApiWorld, startApiWorld, TOKENS } from './api-world.ts';

vi.setConfig({ testTimeout: 30_000 });

type Answer = { status: number; body: string };

/** A request exactly as written: no client normalises the path or refuses odd headers. */
function send(
  base: string,
  o: { method: string; path: string; headers?: Record<string, string>; body?: string | Buffer },
): Promise<Answer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, method: o.method, path: o.path, headers: o.headers ?? {} },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    if (o.body !== undefined) req.write(o.body);
    req.end();
  });
}

/** Bytes that are not HTTP at all, straight onto a socket. */
function sendRaw(base: string, bytes: string): Promise<Answer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.write(bytes));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (c) => {
      text += c;
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
  });
}

const DEPLOY = '/v1/apps/web/deployments';
const auth = (token = TOKENS.deploy) => ({ authorization: `Bearer ${token}` });
const json = (token = TOKENS.deploy) => ({ ...auth(token), 'content-type': 'application/json' });

type Row = {
  name: string;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  raw?: string;
  status: number;
  code?: string;
};

const post = (name: string, body: string, status: number, code?: string): Row => ({
  name,
  method: 'POST',
  path: DEPLOY,
  headers: json(),
  body,
  status,
  ...(code ? { code } : {}),
});
const get = (name: string, path: string, status: number, code?: string): Row => ({
  name,
  method: 'GET',
  path,
  headers: auth(TOKENS.read),
  status,
  ...(code ? { code } : {}),
});

const rows: Row[] = [
  // Bodies that are not JSON, or not an object.
  post('a body cut short', '{', 400, 'InvalidJson'),
  post('a missing value', '{"version": }', 400, 'InvalidJson'),
  post('a JSON null', 'null', 400, 'InvalidJson'),
  post('a JSON string', '"1.2.0"', 400, 'InvalidJson'),
  post('a JSON number', '123', 400, 'InvalidJson'),
  post('a JSON array', '[]', 400, 'InvalidRequest'),
  post('deeply nested arrays', `${'['.repeat(20_000)}${']'.repeat(20_000)}`, 400, 'InvalidRequest'),
  post('trailing garbage', '{"version":"1.0.0"} x', 400, 'InvalidJson'),
  // Missing and wrongly typed fields.
  post('an empty object', '{}', 400, 'InvalidRequest'),
  post('a number as version', '{"version":1}', 400, 'InvalidRequest'),
  post('a boolean as version', '{"version":true}', 400, 'InvalidRequest'),
  post('null as version', '{"version":null}', 400, 'InvalidRequest'),
  post('an array as version', '{"version":["1.0.0"]}', 400, 'InvalidRequest'),
  post('an operator object as version', '{"version":{"$gt":""}}', 400, 'InvalidRequest'),
  post(
    'both version and image',
    '{"version":"1.0.0","image":"127.0.0.1:5000/demo-app:1.0.0"}',
    400,
    'InvalidRequest',
  ),
  post('an unknown field', '{"version":"1.0.0","privileged":true}', 400, 'InvalidRequest'),
  post('a __proto__ field', '{"__proto__":{"role":"admin"},"version":"1.0.0"}', 400, 'InvalidRequest'),
  post('mounts asked for', '{"version":"1.0.0","mounts":["/:/host"]}', 400, 'InvalidRequest'),
  post('a strategy as text', '{"version":"1.0.0","strategy":"fast"}', 400, 'InvalidRequest'),
  post('a negative surge', '{"version":"1.0.0","strategy":{"maxSurge":-1}}', 400, 'InvalidRequest'),
  post('a huge percentage', '{"version":"1.0.0","strategy":{"maxSurge":"99999%"}}', 400, 'InvalidRequest'),
  post('a duration as number', '{"version":"1.0.0","strategy":{"minHealthyTime":5}}', 400, 'InvalidRequest'),
  post(
    'network mode in the strategy',
    '{"version":"1.0.0","strategy":{"networkMode":"host"}}',
    400,
    'InvalidRequest',
  ),
  post('a reason as object', '{"version":"1.0.0","reason":{"a":1}}', 400, 'InvalidRequest'),
  // Strings: huge, unicode, control characters, traversal, shell.
  post('a huge version', JSON.stringify({ version: 'x'.repeat(50_000) }), 400, 'InvalidRequest'),
  post('a version with a bidi override', JSON.stringify({ version: '1.0.0\u202e' }), 400, 'InvalidRequest'),
  post('an emoji version', JSON.stringify({ version: '🚀' }), 400, 'InvalidRequest'),
  post('a version with NUL', JSON.stringify({ version: '1.0.0\u0000' }), 400, 'InvalidRequest'),
  post('a lone surrogate', '{"version":"\\ud800"}', 400, 'InvalidRequest'),
  post('a traversal as version', JSON.stringify({ version: '../../etc/passwd' }), 400, 'InvalidRequest'),
  post(
    'a shell in the image',
    JSON.stringify({ image: '127.0.0.1:5000/demo-app:$(id)' }),
    400,
    'InvalidRequest',
  ),
  post('another repository', JSON.stringify({ image: '127.0.0.1:5000/other:1.0.0' }), 422, 'ImageNotAllowed'),
  post('a short digest', JSON.stringify({ digest: 'sha256:abc' }), 400, 'InvalidRequest'),
  post('a version that does not resolve', JSON.stringify({ version: '7.7.7' }), 422, 'TagNotFound'),
  // Size.
  post(
    'a body over the limit',
    JSON.stringify({ version: '1.0.0', reason: 'r'.repeat(200_000) }),
    413,
    'PayloadTooLarge',
  ),
  post('a megabyte of JSON', `{"version":"1.0.0","x":"${'y'.repeat(1024 * 1024)}"}`, 413, 'PayloadTooLarge'),
  // Content types and encodings.
  {
    name: 'JSON sent as text/plain',
    method: 'POST',
    path: DEPLOY,
    headers: { ...auth(), 'content-type': 'text/plain' },
    body: '{"version":"1.0.0"}',
    status: 415,
    code: 'UnsupportedMediaType',
  },
  {
    name: 'a form body',
    method: 'POST',
    path: DEPLOY,
    headers: { ...auth(), 'content-type': 'application/x-www-form-urlencoded' },
    body: 'version=1.0.0',
    status: 415,
    code: 'UnsupportedMediaType',
  },
  {
    name: 'a body without a content type',
    method: 'POST',
    path: DEPLOY,
    headers: auth(),
    body: '{"version":"1.0.0"}',
    status: 415,
    code: 'UnsupportedMediaType',
  },
  {
    name: 'a gzip body that does not inflate',
    method: 'POST',
    path: DEPLOY,
    headers: { ...json(), 'content-encoding': 'gzip' },
    body: Buffer.from([0x1f, 0x8b, 0, 1, 2]),
    status: 400,
    code: 'InvalidRequest',
  },
  {
    name: 'a Latin-1 body',
    method: 'POST',
    path: DEPLOY,
    headers: { ...auth(), 'content-type': 'application/json; charset=iso-8859-1' },
    body: '{}',
    status: 415,
    code: 'UnsupportedMediaType',
  },
  // Scale.
  {
    name: 'instances as text',
    method: 'PUT',
    path: '/v1/apps/web/scale',
    headers: json(),
    body: '{"instances":"3"}',
    status: 400,
    code: 'InvalidRequest',
  },
  {
    name: 'negative instances',
    method: 'PUT',
    path: '/v1/apps/web/scale',
    headers: json(),
    body: '{"instances":-1}',
    status: 400,
    code: 'InvalidRequest',
  },
  {
    name: 'infinite instances',
    method: 'PUT',
    path: '/v1/apps/web/scale',
    headers: json(),
    body: '{"instances":1e309}',
    status: 400,
    code: 'InvalidRequest',
  },
  {
    name: 'fractional instances',
    method: 'PUT',
    path: '/v1/apps/web/scale',
    headers: json(),
    body: '{"instances":2.5}',
    status: 400,
    code: 'InvalidRequest',
  },
  // The :app and :id path parameters.
  get('NUL as app', '/v1/apps/%00', 400, 'InvalidRequest'),
  {
    name: 'an upper-case /V1 write',
    method: 'POST',
    path: '/V1/apps/web/deployments',
    headers: json(),
    body: '{"version":"1.0.0"}',
    status: 404,
    code: 'NotFound',
  },
  get('NUL inside the app', '/v1/apps/web%00evil', 400, 'InvalidRequest'),
  get('an encoded traversal as app', '/v1/apps/..%2F..%2Fetc%2Fpasswd', 400, 'InvalidRequest'),
  get('a raw traversal', '/v1/apps/../../etc/passwd', 404, 'NotFound'),
  get('dot-dot as app', '/v1/apps/..', 400, 'InvalidRequest'),
  get('a broken percent escape', '/v1/apps/%E0%A4%A', 400, 'InvalidRequest'),
  get('an upper-case app', '/v1/apps/WEB', 400, 'InvalidRequest'),
  get('an emoji app', '/v1/apps/%F0%9F%9A%80', 400, 'InvalidRequest'),
  get('a 5000-character app', `/v1/apps/${'a'.repeat(5000)}`, 400, 'InvalidRequest'),
  get('an app that is not declared', '/v1/apps/nope', 404, 'UnknownApp'),
  get('a traversal as deployment id', '/v1/deployments/..%2f..%2fstate', 400, 'InvalidRequest'),
  get('NUL in a deployment id', '/v1/deployments/web-20260101T000000-abcd%00', 400, 'InvalidRequest'),
  // Queries.
  get('a limit that is not a number', '/v1/deployments?limit=abc', 400, 'InvalidRequest'),
  get('a negative limit', '/v1/deployments?limit=-5', 400, 'InvalidRequest'),
  get('a wait of years', '/v1/deployments/web-20260101T000000-abcd?wait=1e9', 400, 'InvalidRequest'),
  get('an app given twice', '/v1/deployments?app=web&app=api', 400, 'InvalidRequest'),
  get('an unknown query field', '/v1/deployments?state[]=x', 400, 'InvalidRequest'),
  get('markup as event types', '/v1/events?types=%3Cscript%3E', 400, 'InvalidRequest'),
  // Headers and framing.
  {
    name: 'headers over the limit',
    method: 'GET',
    path: '/v1/apps',
    headers: { ...auth(TOKENS.read), 'x-big': 'a'.repeat(70_000) },
    status: 431,
    code: 'HeadersTooLarge',
  },
  {
    name: 'a huge bearer token',
    method: 'GET',
    path: '/v1/apps',
    headers: { authorization: `Bearer ${'a'.repeat(10_000)}` },
    status: 401,
    code: 'Unauthorized',
  },
  {
    name: 'a token with latin-1 bytes',
    method: 'GET',
    path: '/v1/apps',
    headers: { authorization: 'Bearer caf\u00e9' },
    status: 401,
    code: 'Unauthorized',
  },
  {
    name: 'basic auth',
    method: 'GET',
    path: '/v1/apps',
    headers: { authorization: 'Basic YWRtaW46YWRtaW4=' },
    status: 401,
    code: 'Unauthorized',
  },
  {
    name: 'an Idempotency-Key with spaces',
    method: 'POST',
    path: DEPLOY,
    headers: { ...json(), 'idempotency-key': 'a b' },
    body: '{"version":"1.0.0"}',
    status: 400,
    code: 'InvalidRequest',
  },
  {
    name: 'an Idempotency-Key too long',
    method: 'POST',
    path: DEPLOY,
    headers: { ...json(), 'idempotency-key': 'k'.repeat(500) },
    body: '{"version":"1.0.0"}',
    status: 400,
    code: 'InvalidRequest',
  },
  {
    name: 'a method no route has',
    method: 'DELETE',
    path: '/v1/apps/web',
    headers: auth(),
    status: 404,
    code: 'NotFound',
  },
  {
    name: 'a control of a deployment that does not exist',
    method: 'POST',
    path: '/v1/deployments/web-20260101T000000-abcd/pause',
    headers: auth(),
    status: 404,
    code: 'DeploymentNotFound',
  },
  {
    name: 'a read token deploying',
    method: 'POST',
    path: DEPLOY,
    headers: json(TOKENS.read),
    body: '{"version":"1.0.0"}',
    status: 403,
    code: 'Forbidden',
  },
  {
    name: 'a request line that is not HTTP',
    raw: 'HELLO \u0000 WORLD\r\n\r\n',
    status: 400,
    code: 'InvalidRequest',
  },
  {
    name: 'a content length that lies',
    raw: 'POST /v1/apps/web/deployments HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}',
    status: 400,
    code: 'InvalidRequest',
  },
];

let w: ApiWorld;
beforeAll(async () => {
  w = await startApiWorld();
});
afterAll(async () => {
  await w.close();
});

describe('malformed requests get a 4xx JSON error and the server keeps answering', () => {
  it('has at least 40 cases', () => {
    expect(rows.length).toBeGreaterThanOrEqual(40);
  });

  it.each(rows)('$name → $status', async (row) => {
    const answer = row.raw
      ? await sendRaw(w.url, row.raw)
      : await send(w.url, {
          method: row.method ?? 'GET',
          path: row.path ?? '/',
          ...(row.headers ? { headers: row.headers } : {}),
          ...(row.body !== undefined ? { body: row.body } : {}),
        });
    expect(answer.status).toBe(row.status);
    const body = JSON.parse(answer.body) as { error: { code: string; message: string } };
    expect(Object.keys(body)).toEqual(['error']);
    expect(typeof body.error.message).toBe('string');
    if (row.code) expect(body.error.code).toBe(row.code);
    expect(answer.body.length).toBeLessThan(8_000);
    const alive = await w.call('GET', '/v1/apps', { token: TOKENS.read });
    expect(alive.status).toBe(200);
  });

  it('started no deployment', () => {
    expect(w.store.deployments.size).toBe(0);
  });
});
