import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerEngine, discoverServiceAddress } from '../../src/docker/index.ts';
import { silentLogger } from '../../src/log/index.ts';
import { serviceAddressesOf } from '../../src/rollout-wiring.ts';

let dir: string;
let silent: Server;
let answering: HttpServer;
/** What the fake engine answers to `GET /networks/bridge`. */
let bridge: { status: number; body: unknown } = {
  status: 404,
  body: { message: 'network bridge not found' },
};
const held: Socket[] = [];
const silentSocket = () => join(dir, 'silent.sock');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'svc-addr-'));
  // An "engine" that takes the connection and never answers.
  silent = createServer((socket) => held.push(socket));
  await new Promise<void>((resolve) => silent.listen(silentSocket(), resolve));
  answering = createHttpServer((req, res) => {
    const known = req.url?.startsWith('/networks/bridge');
    res.writeHead(known ? bridge.status : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(known ? bridge.body : { message: 'not found' }));
  });
  await new Promise<void>((resolve) => answering.listen(join(dir, 'engine.sock'), resolve));
});

afterAll(async () => {
  for (const socket of held) socket.destroy();
  answering.closeAllConnections();
  await new Promise((resolve) => answering.close(resolve));
  await new Promise((resolve) => silent.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('service addresses at daemon start', () => {
  it('takes a declared serviceAddress as it is, without asking the engine', async () => {
    const endpoints = [
      { name: 'far', socketPath: join(dir, 'nothing.sock'), hostIp: '10.0.0.5', serviceAddress: '10.0.0.1' },
    ];
    expect(await serviceAddressesOf(endpoints, silentLogger())).toEqual(new Map([['far', '10.0.0.1']]));
  });

  it("assumes Docker's default gateway for an engine that does not answer, so the daemon still starts", async () => {
    const endpoints = [{ name: 'down', socketPath: join(dir, 'nothing.sock'), hostIp: '127.0.0.1' }];
    expect(await serviceAddressesOf(endpoints, silentLogger())).toEqual(new Map([['down', '172.17.0.1']]));
  });

  it('gives up on an engine that takes the connection but never answers, as a transient error', async () => {
    const engine = new DockerEngine({ socketPath: silentSocket() });
    await expect(discoverServiceAddress(engine, 'mute', 200)).rejects.toMatchObject({
      code: 'EngineUnreachable',
      message: expect.stringContaining('Docker endpoint mute: no answer within 200 ms'),
    });
  });

  const engine = () => new DockerEngine({ socketPath: join(dir, 'engine.sock') });

  it.each([
    { name: 'no bridge network', status: 404, body: { message: 'network bridge not found' } },
    { name: 'a bridge without IPv4', status: 200, body: { IPAM: { Config: [{ Subnet: 'fd00::/64' }] } } },
  ])('refuses an engine with $name, naming the endpoint and the field to set', async ({ status, body }) => {
    bridge = { status, body };
    await expect(discoverServiceAddress(engine(), 'odd')).rejects.toMatchObject({
      code: 'ServiceAddressUnknown',
      message: expect.stringMatching(/Docker endpoint odd .*set serviceAddress/),
    });
  });

  it("reads the bridge's gateway", async () => {
    bridge = { status: 200, body: { IPAM: { Config: [{ Subnet: '10.99.0.0/16', Gateway: '10.99.0.1' }] } } };
    expect(await discoverServiceAddress(engine(), 'local')).toBe('10.99.0.1');
  });
});
