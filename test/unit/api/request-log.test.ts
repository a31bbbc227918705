import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log/index.ts';
import { waitFor } from '../../support/wait-for.ts';
import { type ApiWorld, startApiWorld, TOKENS } from './api-world.ts';

let w: ApiWorld;
const lines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  w = await startApiWorld({ log: createLogger({ destination, level: 'info' }) });
});
afterAll(async () => {
  await w.close();
});

const requestLine = (id: string) =>
  waitFor(() => lines.find((l) => l.msg === 'request' && l.reqId === id), { what: `the log line of ${id}` });

describe('the request log', () => {
  it('logs each request once with its id, status and caller, and echoes the id', async () => {
    const res = await w.call('GET', '/v1/apps', { token: TOKENS.read });
    const id = res.headers.get('x-request-id')!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const line = await requestLine(id);
    expect(line).toMatchObject({ method: 'GET', path: '/v1/apps', status: 200, caller: 'dashboard' });
    expect(typeof line.ms).toBe('number');
    expect(lines.filter((l) => l.reqId === id)).toHaveLength(1);
  });

  it("keeps a client's plain request id and replaces one that is not", async () => {
    const kept = await w.call('GET', '/v1/apps', { headers: { 'x-request-id': 'ci-run-17.3' } });
    expect(kept.headers.get('x-request-id')).toBe('ci-run-17.3');
    const odd = await w.call('GET', '/v1/apps', { headers: { 'x-request-id': 'a b<script>' } });
    expect(odd.headers.get('x-request-id')).not.toContain('script');
  });

  it('never logs a token, a header or a body', async () => {
    const res = await w.call('POST', '/v1/apps/web/deployments', {
      token: TOKENS.deploy,
      body: { version: '9.9.9', reason: 'body-text-not-for-logs' },
    });
    const line = await requestLine(res.headers.get('x-request-id')!);
    expect(line).toMatchObject({ status: 422, caller: 'ci' });
    const bad = await w.call('GET', '/v1/apps', { token: 'wrong-token-value' });
    await requestLine(bad.headers.get('x-request-id')!);
    const all = JSON.stringify(lines);
    for (const secret of [
      TOKENS.deploy,
      TOKENS.read,
      TOKENS.admin,
      'wrong-token-value',
      'body-text-not-for-logs',
    ])
      expect(all).not.toContain(secret);
  });
});
