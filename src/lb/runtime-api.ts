import { GlintError } from '../errors/index.ts';
import { assertCliSuccess } from './cli-reply.ts';
import type { ServerState } from './lb-model.ts';
import { type ObservedServer, parseServersState } from './parse-servers-state.ts';
import { parseShowStat, type StatRow } from './parse-show-stat.ts';
import { type AnswerKind, sendSocketCommand } from './socket-command.ts';

export type RuntimeApiOptions = { timeoutMs?: number };

/**
 * HAProxy's runtime API on the admin stats socket: one command per connection, each prefixed
 * with `set severity-output number;` so errors are recognised by level, not by wording.
 */
export class RuntimeApi {
  constructor(
    readonly socketPath: string,
    private readonly opts: RuntimeApiOptions = {},
  ) {}

  /** `answer`: `listing` for the show commands, whose cut answers would read as fewer servers. */
  async run(command: string, signal?: AbortSignal, answer: AnswerKind = 'message'): Promise<string> {
    const output = await sendSocketCommand(this.socketPath, `set severity-output number; ${command}`, {
      answer,
      ...(this.opts.timeoutMs ? { timeoutMs: this.opts.timeoutMs } : {}),
      ...(signal ? { signal } : {}),
    });
    // The severity prefix answers with an empty line of its own; the server-state file must
    // start with its version line, so drop it.
    return assertCliSuccess(command, output).replace(/^\n+/, '');
  }

  /**
   * Adds a server in maintenance. Runtime-added servers ignore `default-server`, so
   * `keywords` must hold every keyword the server needs (check, inter, rise, fall, weight).
   */
  async addServer(backend: string, name: string, address: string, port: number, keywords: string[]) {
    await this.run(`add server ${backend}/${name} ${address}:${port} ${keywords.join(' ')}`);
  }

  async enableHealth(backend: string, name: string): Promise<void> {
    await this.run(`enable health ${backend}/${name}`);
  }

  async setState(backend: string, name: string, state: ServerState): Promise<void> {
    await this.run(`set server ${backend}/${name} state ${state}`);
  }

  /** Cuts the sessions still open on a server, once its drain time is over. */
  async shutdownSessions(backend: string, name: string): Promise<void> {
    await this.run(`shutdown sessions server ${backend}/${name}`);
  }

  /** Needs the server in maintenance with no connection left. */
  async delServer(backend: string, name: string): Promise<void> {
    await this.run(`del server ${backend}/${name}`);
  }

  /** Every server of every backend: the text HAProxy reads back from its server-state file. */
  async showServersState(signal?: AbortSignal): Promise<string> {
    return this.run('show servers state', signal, 'listing');
  }

  async showStat(signal?: AbortSignal): Promise<StatRow[]> {
    return parseShowStat(await this.run('show stat', signal, 'listing'));
  }

  /**
   * One backend's servers from `show servers state <backend>`: HAProxy does the filtering, so a
   * read of one app costs the same with a hundred apps declared as with one. None while HAProxy
   * does not have the backend (yet, or any more).
   */
  async backendServersState(backend: string, signal?: AbortSignal): Promise<ObservedServer[]> {
    return this.#scoped(async () =>
      parseServersState(await this.run(`show servers state ${backend}`, signal, 'listing')),
    );
  }

  /**
   * One backend's server rows from `show stat <backend> 4 -1` (type 4: servers, any id), as
   * above. HAProxy looks the name up among all proxies, so a frontend of the same name would
   * hide the backend; glint's own names (`fe_<app>`, `be_<app>`) never meet.
   */
  async backendStat(backend: string, signal?: AbortSignal): Promise<StatRow[]> {
    return this.#scoped(async () =>
      parseShowStat(await this.run(`show stat ${backend} 4 -1`, signal, 'listing')),
    );
  }

  async #scoped<T>(read: () => Promise<T[]>): Promise<T[]> {
    try {
      return await read();
    } catch (err) {
      if (isUnknownBackend(err)) return [];
      throw err;
    }
  }

  /** One server's row; undefined when HAProxy has no such server, or no such backend. */
  async serverStat(backend: string, name: string, signal?: AbortSignal): Promise<StatRow | undefined> {
    return (await this.backendStat(backend, signal)).find((row) => row.server === name);
  }
}

/** HAProxy's answer to a read scoped to a backend it does not have (yet, or any more). */
function isUnknownBackend(err: unknown): boolean {
  return (
    err instanceof GlintError &&
    err.code === 'LbCommandFailed' &&
    /No such proxy|Can't find backend/i.test(String(err.details?.reason))
  );
}
