import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigValidator } from '../../../src/lb/index.ts';

/** What a fake socket does with one command: answer it, close without a word, or hang. */
export type Reply = string | { close: true } | { hang: true };
export type CommandHandler = (command: string) => Reply | Promise<Reply>;

/** A unix socket that answers like a HAProxy CLI socket, one command per connection. */
export async function listenFakeSocket(path: string, handle: CommandHandler): Promise<Server> {
  // Half-open, as HAProxy: the client ends its side after the command and waits for the answer.
  const open = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (socket: Socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    let text = '';
    socket.on('data', async (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (!text.endsWith('\n')) return;
      const reply = await handle(text.trim());
      if (typeof reply === 'string') socket.end(reply);
      else if ('close' in reply) socket.end();
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  // A hanging answer keeps its connection open; closing the fake ends those too.
  const close = server.close.bind(server);
  server.close = (done) => {
    for (const socket of open) socket.destroy();
    return close(done);
  };
  return server;
}

export const acceptAll: ConfigValidator = {
  description: 'accepts every file',
  validate: async () => ({ valid: true, output: '' }),
};

const STAT_HEADER = '# pxname,svname,qcur,scur,stot,wretr,wredis,status,check_status,check_code,last_chk,';
const STATE_HEADER =
  '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port';
type FakeServer = {
  backend: string;
  name: string;
  address: string;
  port: number;
  id: number;
  state: string;
  /** What `show stat` says of its last check: `L7OK` unless a test says otherwise. */
  checkStatus?: string;
  sessions?: number;
};

/**
 * Just enough of HAProxy's runtime API for the load balancer's bookkeeping: servers added,
 * put in states and deleted, each passing its check at once (`checkStatus` and `sessions` of
 * a server change what `show stat` says). `override` answers a command
 * first (return undefined to fall through), to cut, refuse or hold an answer.
 */
export class FakeHaproxy {
  readonly runDir = mkdtempSync(join(tmpdir(), 'glint-fake-lb-'));
  readonly servers: FakeServer[] = [];
  readonly commands: string[] = [];
  /** Backends HAProxy answers a scoped read of with "no such proxy". */
  readonly missingBackends = new Set<string>();
  override: (command: string) => Reply | Promise<Reply> | undefined = () => undefined;
  private readonly sockets: Server[] = [];

  /** Pids the master lists as old workers (from before a reload). */
  oldWorkers: number[] = [];

  async start(): Promise<this> {
    this.sockets.push(await listenFakeSocket(join(this.runDir, 'admin.sock'), (c) => this.answer(c)));
    this.sockets.push(await listenFakeSocket(join(this.runDir, 'master.sock'), (c) => this.answerMaster(c)));
    return this;
  }

  private answerMaster(command: string): Reply {
    this.commands.push(`master: ${command}`);
    if (command !== 'show proc') return `Unknown command '${command}'\n`;
    const row = (pid: number, type: string) =>
      `${pid}            ${type}          0               0d00h00m01s     2.6.12`;
    const old = this.oldWorkers.map((pid) => row(pid, 'worker'));
    return [
      '#<PID>          <type>          <reloads>       <uptime>        <version>',
      '8510            master          0 [failed: 0]   0d00h00m01s     2.6.12',
      '# workers',
      row(8511, 'worker'),
      ...(old.length > 0 ? ['# old workers', ...old] : []),
      '# programs',
      '',
      '',
    ].join('\n');
  }

  async close(): Promise<void> {
    await Promise.all(this.sockets.map((s) => new Promise((r) => s.close(r))));
    rmSync(this.runDir, { recursive: true, force: true });
  }

  private async answer(line: string): Promise<Reply> {
    const command = line.replace(/^set severity-output number; /, '');
    this.commands.push(command);
    const overridden = await this.override(command);
    if (overridden !== undefined) return overridden;
    const said = this.run(command);
    // As 2.6 does: a deleted server's message comes without the closing empty line.
    if (command.startsWith('del server') && said === '') return '\n[5]: Server deleted.\n';
    return `\n${said}\n`;
  }

  private run(command: string): string {
    const find = (ref: string) => this.servers.find((s) => `${s.backend}/${s.name}` === ref);
    let m = /^add server (\S+)\/(\S+) ([\d.]+):(\d+) id (\d+)/.exec(command);
    if (m) {
      this.servers.push({
        backend: m[1]!,
        name: m[2]!,
        address: m[3]!,
        port: Number(m[4]),
        id: Number(m[5]),
        state: 'maint',
      });
      return '[6]: New server registered.\n';
    }
    m = /^(?:enable health|set server|del server|shutdown sessions server) (\S+)/.exec(command);
    if (m) {
      const server = find(m[1]!);
      if (!server) return '[3]: No such server.\n';
      const state = / state (\w+)$/.exec(command)?.[1];
      if (state) server.state = state;
      if (command.startsWith('del server')) this.servers.splice(this.servers.indexOf(server), 1);
      return '';
    }
    // A read scoped to one backend (`show stat <backend> 4 -1`, `show servers state <backend>`)
    // lists that backend's servers; every backend exists unless a test removed it.
    m = /^show (stat|servers state)(?: (\S+))?/.exec(command);
    const scope = m?.[2];
    if (scope && this.missingBackends.has(scope))
      return m?.[1] === 'stat' ? '[3]: No such proxy.\n' : "[3]: Can't find backend.\n";
    const listed = this.servers.filter((s) => !scope || s.backend === scope);
    if (m?.[1] === 'stat') {
      const rows = listed.map((s) => {
        const status = { ready: 'UP', drain: 'DRAIN', maint: 'MAINT' }[s.state] ?? 'UP';
        return `${s.backend},${s.name},0,${s.sessions ?? 0},0,0,0,${status},${s.checkStatus ?? 'L7OK'},200,1,`;
      });
      return [STAT_HEADER, ...rows, ''].join('\n');
    }
    if (m?.[1] === 'servers state') {
      const rows = listed.map((s) => {
        const admin = { ready: 0, drain: 8, maint: 1 }[s.state] ?? 0;
        return `3 ${s.backend} ${s.id} ${s.name} ${s.address} 2 ${admin} 1 1 5 15 3 3 6 0 0 1 - ${s.port} - 0 0 - - 0`;
      });
      return ['1', STATE_HEADER, ...rows, ''].join('\n');
    }
    return `[3]: Unknown command ${command}\n`;
  }
}
