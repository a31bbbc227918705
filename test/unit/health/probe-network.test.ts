import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeHttp, probeTcp } from '../../../src/health/index.ts';
import { freePort } from '../../support/free-port.ts';

let server: Server;
let port: number;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/slow') return void setTimeout(() => res.end('late'), 1_000);
    res.statusCode = req.url === '/sick' ? 503 : req.url === '/moved' ? 302 : 200;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : 0;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('probeHttp (loopback server)', () => {
  const probe = (path: string, expectStatus?: string, timeoutMs = 500) =>
    probeHttp({ host: '127.0.0.1', port, path, timeoutMs, ...(expectStatus ? { expectStatus } : {}) });

  it('passes on a status in range', async () => {
    expect(await probe('/ok')).toEqual({ ok: true, reason: 'status 200' });
    expect(await probe('/moved')).toEqual({ ok: true, reason: 'status 302' });
  });

  it('fails with the status outside the range', async () => {
    expect(await probe('/sick')).toEqual({ ok: false, reason: 'status 503' });
    expect(await probe('/moved', '200')).toEqual({ ok: false, reason: 'status 302' });
  });

  it('fails with the timeout when the answer is late', async () => {
    expect(await probe('/slow', undefined, 100)).toEqual({ ok: false, reason: 'timeout after 100ms' });
  });

  it('fails with connection refused when nothing listens', async () => {
    const closed = await freePort();
    expect(await probeHttp({ host: '127.0.0.1', port: closed, path: '/', timeoutMs: 500 })).toEqual({
      ok: false,
      reason: 'connection refused',
    });
  });
});

describe('probeTcp (loopback server)', () => {
  it('passes when the port accepts and fails with the reason when it does not', async () => {
    expect(await probeTcp({ host: '127.0.0.1', port, timeoutMs: 500 })).toEqual({
      ok: true,
      reason: 'connected',
    });
    const closed = await freePort();
    expect(await probeTcp({ host: '127.0.0.1', port: closed, timeoutMs: 500 })).toEqual({
      ok: false,
      reason: 'connection refused',
    });
  });
});
