import { type ChildProcess, spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startLoad } from '../../support/http-load.ts';
import { waitFor } from '../../support/wait-for.ts';

const SERVER = fileURLToPath(new URL('../../../images/demo-app/server.mjs', import.meta.url));

type Demo = { child: ChildProcess; port: number; exited: Promise<number | null>; logs: () => string };
const started: { child: ChildProcess; exited: Promise<number | null> }[] = [];

afterEach(async () => {
  for (const s of started.splice(0)) {
    if (s.child.exitCode === null) s.child.kill('SIGKILL');
    await s.exited;
  }
});

/** Runs the demo app on a free loopback port, as its image would (plain node). */
async function startDemo(env: Record<string, string> = {}): Promise<Demo> {
  const child = spawn(process.execPath, [SERVER], {
    env: { PATH: process.env.PATH, PORT: '0', APP_VERSION: '7.7.7', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // Known to the cleanup before anything can fail, so no run leaves a server behind.
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  started.push({ child, exited });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  const port = await waitFor(() => Number(out.match(/"msg":"listening".*"port":(\d+)/)?.[1]) || undefined, {
    timeoutMs: 20_000,
    intervalMs: 20,
    what: 'the demo app to listen on a port it names',
  });
  return { child, port, exited, logs: () => out };
}

type Answer = { status: number; body: string; connection: string | undefined };

/** One request; `body` chunks are written in turn, and `onContinue` runs on `100 Continue`. */
function send(
  port: number,
  opts: {
    method: string;
    path: string;
    chunks?: Buffer[];
    headers?: Record<string, string | number>;
    agent?: Agent;
  },
  onContinue?: (write: (chunk: Buffer) => void, end: () => void) => void,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: opts.method,
        path: opts.path,
        headers: opts.headers,
        agent: opts.agent ?? false,
      },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => {
          body += chunk.toString('utf8');
        });
        res.on('end', () => resolve({ status: res.statusCode!, body, connection: res.headers.connection }));
      },
    );
    req.on('error', reject);
    if (onContinue) {
      req.on('continue', () =>
        onContinue(
          (chunk) => req.write(chunk),
          () => req.end(),
        ),
      );
      return;
    }
    for (const chunk of opts.chunks ?? []) req.write(chunk);
    req.end();
  });
}

// Each test starts a node process: generous on a loaded machine, where a start can take seconds.
describe('demo app', { timeout: 30_000 }, () => {
  it('with UPSTREAM_URL, / includes the upstream answer, and says 502 with the cause when it fails', async () => {
    const upstream = await startDemo({ APP_VERSION: '2.0.0' });
    const web = await startDemo({ UPSTREAM_URL: `http://127.0.0.1:${upstream.port}/version` });
    const ok = await send(web.port, { method: 'GET', path: '/' });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ version: '7.7.7', upstream: { version: '2.0.0' } });

    upstream.child.kill('SIGKILL');
    await upstream.exited;
    const failed = await send(web.port, { method: 'GET', path: '/' });
    expect(failed.status).toBe(502);
    expect(JSON.parse(failed.body).error).toMatch(/^upstream http:\/\/127\.0\.0\.1:\d+\/version: /);
  });

  it('POST /admin/fail-health turns /healthz to 503 from then on', async () => {
    const demo = await startDemo();
    expect((await send(demo.port, { method: 'GET', path: '/healthz' })).status).toBe(200);
    expect((await send(demo.port, { method: 'POST', path: '/admin/fail-health' })).status).toBe(200);
    const after = await send(demo.port, { method: 'GET', path: '/healthz' });
    expect(after.status).toBe(503);
    expect((await send(demo.port, { method: 'GET', path: '/' })).status).toBe(200);
  });

  it('POST /echo reads the whole body and answers its length, version and instance', async () => {
    const { port } = await startDemo();
    const body = Buffer.alloc(3_000, 'x');
    const sized = await send(port, {
      method: 'POST',
      path: '/echo',
      chunks: [body],
      headers: { 'content-length': body.length },
    });
    // Without a length the body comes chunked, in pieces: all of them count.
    const chunked = await send(port, {
      method: 'POST',
      path: '/echo',
      chunks: [body, body, body.subarray(7)],
    });

    expect(sized.status).toBe(200);
    expect(JSON.parse(sized.body)).toEqual({ bytes: 3_000, version: '7.7.7', instance: expect.any(String) });
    expect(chunked.status).toBe(200);
    expect(JSON.parse(chunked.body).bytes).toBe(8_993);
  });

  it.each([
    ['POST', '/elsewhere'],
    ['GET', '/echo'],
  ])('answers %s %s with 404', async (method, path) => {
    const { port } = await startDemo();
    expect((await send(port, { method, path })).status).toBe(404);
  });

  it('finishes a request in flight on SIGTERM, closes its connection and exits 0', async () => {
    const { child, port, exited, logs } = await startDemo();
    const body = Buffer.alloc(2_000, 'y');
    // A keep-alive client, as HAProxy is. `Expect: 100-continue` proves the app is handling
    // the request before the signal is sent; the second half of the body goes once the app
    // has logged that it is stopping.
    const agent = new Agent({ keepAlive: true });
    let sentAll: Promise<true> | undefined;
    const answer = send(
      port,
      {
        method: 'POST',
        path: '/echo',
        headers: { expect: '100-continue', 'content-length': body.length },
        agent,
      },
      (write, end) => {
        write(body.subarray(0, 1_000));
        child.kill('SIGTERM');
        sentAll = waitFor(() => (logs().includes('"msg":"stopping"') ? true : undefined), {
          intervalMs: 20,
          what: 'the demo app to log that it is stopping',
        }).then(() => {
          write(body.subarray(1_000));
          end();
          return true as const;
        });
      },
    );

    const [{ status, body: reply, connection }] = await Promise.all([
      answer,
      waitFor(() => sentAll, { intervalMs: 20, what: 'the request to reach the app' }),
    ]).finally(() => agent.destroy());
    expect(status).toBe(200);
    expect(JSON.parse(reply).bytes).toBe(2_000);
    // A keep-alive answer would hold the process open until its fallback timer.
    expect(connection).toBe('close');
    expect(await exited).toBe(0);
  });

  it('answers the load generator mix of GETs and POSTs without a failure', async () => {
    const { port } = await startDemo();
    const s = await startLoad({
      url: `http://127.0.0.1:${port}/`,
      connections: 32,
      rate: 200,
      maxDurationSec: 1,
      postShare: 0.5,
      newConnectionShare: 0.5,
    }).result;

    expect(s.byKind.post).toBeGreaterThan(20);
    expect(s.byKind.fresh).toBeGreaterThan(20);
    expect(s).toMatchObject({ ok2xx: s.requests, errors: 0, non2xx: 0, timeouts: 0, unanswered: 0 });
  });
});
