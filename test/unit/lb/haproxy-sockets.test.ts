import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TransientError } from '../../../src/errors/index.ts';
import {
  connectLoadBalancer,
  DEFAULT_TIMEOUTS,
  DockerExecValidator,
  type LbStructure,
  MasterCli,
} from '../../../src/lb/index.ts';
import { sendSocketCommand } from '../../../src/lb/socket-command.ts';
import { silentLogger } from '../../../src/log/index.ts';
import { acceptAll, type CommandHandler, listenFakeSocket } from './fake-haproxy.ts';

const SHOW_PROC = `#<PID>          <type>          <reloads>       <uptime>        <version>
8510            master          0 [failed: 0]   0d00h00m01s     2.6.12-1+deb12u4
# workers
8511            worker          0               0d00h00m01s     2.6.12-1+deb12u4
# programs

`;

let dir: string;
const sockets: Server[] = [];
const listen = async (name: string, handle: CommandHandler) => {
  const path = join(dir, name);
  sockets.push(await listenFakeSocket(path, handle));
  return path;
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'glint-lb-socket-'));
});
afterEach(async () => {
  await Promise.all(sockets.splice(0).map((s) => new Promise((r) => s.close(r))));
  rmSync(dir, { recursive: true, force: true });
});

describe('sendSocketCommand', () => {
  it('resolves a listing that ends with its closing empty line, and a message of any length', async () => {
    const path = await listen('a.sock', (c) =>
      c === 'show stat' ? '\n# pxname,svname\n\n' : '\n[5]: Server deleted.\n',
    );
    expect(await sendSocketCommand(path, 'show stat', { answer: 'listing' })).toBe('\n# pxname,svname\n\n');
    expect(await sendSocketCommand(path, 'del server be/x')).toBe('\n[5]: Server deleted.\n');
  });

  it('rejects a connection closed without an answer as transient', async () => {
    const path = await listen('a.sock', () => ({ close: true }));
    const error = await sendSocketCommand(path, 'show stat').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ code: 'LbTruncatedAnswer', message: expect.stringMatching(/got nothing/) });
  });

  it('rejects a listing cut before its closing empty line', async () => {
    const path = await listen('a.sock', () => '\n# pxname,svname\nbe_web,we');
    await expect(sendSocketCommand(path, 'show stat', { answer: 'listing' })).rejects.toMatchObject({
      code: 'LbTruncatedAnswer',
    });
  });

  it('accepts an empty answer where none is expected (the master CLI reload)', async () => {
    const path = await listen('m.sock', () => ({ close: true }));
    expect(await sendSocketCommand(path, 'reload', { answer: 'none' })).toBe('');
  });

  it('ends a command HAProxy never answers as soon as the signal aborts', async () => {
    const path = await listen('a.sock', () => ({ hang: true }));
    const error = await sendSocketCommand(path, 'show stat', {
      timeoutMs: 60_000,
      signal: AbortSignal.timeout(50),
    }).catch((err: unknown) => err);
    expect(error).toMatchObject({ code: 'LbSocketUnreachable', message: expect.stringMatching(/aborted/) });
  });
});

describe('MasterCli.showProc', () => {
  it('honours its abort signal: a readiness probe is not held past its deadline', async () => {
    const path = await listen('master.sock', () => ({ hang: true }));
    const error = await new MasterCli(path)
      .showProc({ signal: AbortSignal.timeout(50) })
      .catch((err: unknown) => err);
    expect(error).toMatchObject({ message: expect.stringMatching(/aborted/) });
  });

  it('reads a complete show proc', async () => {
    const path = await listen('master.sock', () => SHOW_PROC);
    expect((await new MasterCli(path).showProc()).workers).toEqual([{ pid: 8511, reloads: 0 }]);
  });
});

describe('DockerExecValidator', () => {
  it('cuts a hung docker exec at its timeout, aborting the exec, and says so', async () => {
    let execSignal: AbortSignal | undefined;
    const validator = new DockerExecValidator(
      'glint-haproxy',
      (_container, _command, signal) => {
        execSignal = signal;
        return new Promise(() => {});
      },
      50,
    );
    const error = await validator.validate('/run/haproxy.cfg').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({
      code: 'LbValidatorUnavailable',
      message: expect.stringMatching(/did not finish within 50ms/),
    });
    expect(execSignal?.aborted).toBe(true);
  });

  it('runs haproxy -c through the exec it was given', async () => {
    const seen: string[][] = [];
    const validator = new DockerExecValidator('glint-haproxy', async (container, command) => {
      seen.push([container, ...command]);
      return { exitCode: 1, output: "[ALERT] invalid port '70000'" };
    });
    expect(await validator.validate('/run/haproxy.cfg')).toEqual({
      valid: false,
      output: "[ALERT] invalid port '70000'",
    });
    expect(seen).toEqual([['glint-haproxy', 'haproxy', '-c', '-f', '/run/haproxy.cfg']]);
  });
});

describe('connectLoadBalancer', () => {
  const structure = (): LbStructure => ({
    runDir: dir,
    hardStopAfterMs: 1_000,
    timeouts: DEFAULT_TIMEOUTS,
    sharedFrontend: { bind: '127.0.0.1:1' },
    apps: [
      {
        name: 'web',
        hosts: ['web.test'],
        check: { type: 'http' as const, path: '/', intervalMs: 500, rise: 2, fall: 2, timeoutMs: 1_000 },
        drainTimeoutMs: 1_000,
      },
    ],
  });
  const logger = silentLogger();

  it('does not overwrite haproxy.cfg when one show proc got a cut answer', async () => {
    writeFileSync(join(dir, 'haproxy.cfg'), 'the running configuration\n');
    await listen('master.sock', () => SHOW_PROC.slice(0, 80));
    await expect(connectLoadBalancer(structure(), { logger, validator: acceptAll })).rejects.toBeInstanceOf(
      TransientError,
    );
    expect(readFileSync(join(dir, 'haproxy.cfg'), 'utf8')).toBe('the running configuration\n');
  });

  it('writes a checked file to start from when no HAProxy listens', async () => {
    const connected = await connectLoadBalancer(structure(), { logger, validator: acceptAll });
    expect(connected.haproxyRunning).toBe(false);
    expect(readFileSync(join(dir, 'haproxy.cfg'), 'utf8')).toContain('backend be_web');
  });
});
