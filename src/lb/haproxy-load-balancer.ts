import { writeFile } from 'node:fs/promises';
import { GlintError } from '../errors/index.ts';
import { type Logger, silentLogger } from '../log/index.ts';
import { sleep } from '../time/index.ts';
import { writeFileAtomic } from './config-files.ts';
import { ConfigInstaller } from './config-installer.ts';
import type { ConfigValidator } from './config-validator.ts';
import {
  backendName,
  findApp,
  type LbModel,
  type LbPaths,
  type LbServer,
  lbPaths,
  type ServerState,
} from './lb-model.ts';
import { hasNoSessions, hasPassedCheck, type LiveServer, liveServers } from './live-servers.ts';
import { MasterCli } from './master-cli.ts';
import {
  type LbStructure,
  mergeStructure,
  type ServerKey,
  serverKey,
  serverKeys,
  withoutServer,
  withServerAdded,
  withServerAsObserved,
  withServerState,
  withServersAsObserved,
} from './model-edits.ts';
import { OldWorkerTracker } from './old-worker-tracker.ts';
import { type ObservedServer, parseServersState } from './parse-servers-state.ts';
import type { StatRow } from './parse-show-stat.ts';
import { renderHaproxyConfig, serverKeywords } from './render-haproxy-config.ts';
import { RuntimeApi } from './runtime-api.ts';
import { SerialQueue } from './serial-queue.ts';
import { isNoSuchServer, serverNotHealthy, unknownApp, unknownServer } from './server-errors.ts';
import { pollServer } from './server-waits.ts';

export type HaproxyLoadBalancerOptions = {
  model: LbModel;
  validator: ConfigValidator;
  logger?: Logger;
  /** How long a new server may take to pass HAProxy's check; default 30 s. */
  readyTimeoutMs?: number;
  pollIntervalMs?: number;
  socketTimeoutMs?: number;
  reloadTimeoutMs?: number;
};

/** How long `del server` may keep refusing because connections are still attached. */
const DELETE_WAIT_MS = 5_000;
/**
 * Between two `del server` attempts. A connection in maint ends within milliseconds of its
 * response, and the container's stop waits on this, so a retry is cheap and a long one is not.
 */
const DELETE_RETRY_MS = 10;

export type Instance = { name: string; address: string; port: number };
export type RetireOutcome = { drained: boolean; waitedMs: number; alreadyGone: boolean };
export type StructureOutcome = {
  reloaded: boolean;
  durationMs: number;
  /** Servers of removed apps: stop their containers only once `canStopInstance` says so. */
  removed: ServerKey[];
};

/**
 * Keeps a master-worker HAProxy in step with glint's model. Membership goes through the
 * runtime API and is mirrored into haproxy.cfg; structure goes through a validated reload.
 * Every change to HAProxy or the file is serialised; waiting for checks and drains is not,
 * so one slow drain does not hold up other apps.
 */
export class HaproxyLoadBalancer {
  readonly runtime: RuntimeApi;
  readonly master: MasterCli;
  readonly paths: LbPaths;
  private current: LbModel;
  private readonly queue = new SerialQueue();
  private readonly log: Logger;
  private readonly oldWorkers: OldWorkerTracker;
  private readonly files: ConfigInstaller;
  /** Per app, the highest server id ever given: ids of deleted servers are not handed out again. */
  private readonly highestIds = new Map<string, number>();

  constructor(private readonly opts: HaproxyLoadBalancerOptions) {
    this.current = opts.model;
    this.adopt(opts.model);
    this.paths = lbPaths(opts.model.runDir);
    this.log = opts.logger ?? silentLogger();
    this.runtime = new RuntimeApi(this.paths.adminSocket, { timeoutMs: opts.socketTimeoutMs ?? 5_000 });
    this.master = new MasterCli(this.paths.masterSocket, { reloadTimeoutMs: opts.reloadTimeoutMs ?? 15_000 });
    this.oldWorkers = new OldWorkerTracker(this.master, opts.pollIntervalMs ?? 100);
    this.files = new ConfigInstaller(this.paths, opts.validator);
  }

  get model(): LbModel {
    return this.current;
  }

  /** Before HAProxy starts: a validated haproxy.cfg and a server-state file it can read. */
  async writeInitialConfig(): Promise<void> {
    await this.queue.run(async () => {
      await this.files.write(this.current);
      await writeFile(this.paths.serverState, '1\n', { flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
    });
  }

  /**
   * Adds an instance and puts it in rotation in one call: `stage`, wait until HAProxy's own
   * check passes (L7OK, or L4OK for a TCP check), then `promote`. On failure the server is
   * taken out again and the error says why. The rollout engine calls the steps one by one.
   */
  async addInstance(
    appName: string,
    instance: Instance,
    opts: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<LbServer> {
    const app = this.requireApp(appName);
    await this.stage(appName, { name: instance.name, host: instance.address, port: instance.port });
    const server = this.modelServer(appName, instance.name);
    if (server.state === 'ready') return server;
    const timeoutMs = opts.timeoutMs ?? this.opts.readyTimeoutMs ?? 30_000;
    const wait = await pollServer(
      this.runtime,
      backendName(appName),
      server.name,
      hasPassedCheck(app.check),
      {
        timeoutMs,
        pollIntervalMs: this.pollIntervalMs,
        ...(opts.signal ? { signal: opts.signal } : {}),
      },
    ).catch(async (err) => {
      await this.removeServer(appName, server.name);
      throw err;
    });
    if (!wait.met) {
      await this.removeServer(appName, server.name);
      throw serverNotHealthy(appName, instance, app.check, timeoutMs, wait.last);
    }
    this.log.info({ app: appName, instance: server.name, waitedMs: wait.waitedMs }, 'lb: check passed');
    await this.promote(appName, server.name);
    return { ...server, state: 'ready' };
  }

  /**
   * HAProxy's live view of an app's servers: admin state, whether its own check passed, the
   * last check result and current sessions. Read from HAProxy, not the model, so it holds
   * after a restart; a server HAProxy does not have is not listed.
   */
  async servers(appName: string, call: { signal?: AbortSignal } = {}): Promise<LiveServer[]> {
    const app = this.requireApp(appName);
    const backend = backendName(appName);
    const [stat, states] = await Promise.all([
      this.runtime.backendStat(backend, call.signal),
      this.runtime.backendServersState(backend, call.signal),
    ]);
    return liveServers(backend, app.check, stat, states);
  }

  /**
   * Every declared app's servers and their admin state, from one `show servers state` of all
   * backends: what a pass over every app compares, in one read of HAProxy instead of one per
   * app. An app HAProxy has no backend for yet has none.
   */
  async serverStates(call: { signal?: AbortSignal } = {}): Promise<Map<string, LbServer[]>> {
    const byBackend = new Map<string, LbServer[]>();
    for (const { backend, ...server } of parseServersState(
      await this.runtime.showServersState(call.signal),
    )) {
      const list = byBackend.get(backend) ?? [];
      list.push(server);
      byBackend.set(backend, list);
    }
    return new Map(this.current.apps.map((app) => [app.name, byBackend.get(backendName(app.name)) ?? []]));
  }

  /**
   * Adds the server without a reload, held in `drain` with its health check on: `add server`
   * (in maintenance, every keyword given), `enable health`, `state drain`. Idempotent: a server
   * HAProxy already has is done, except that one left in `maint` (a stage cut short, or a
   * hand-set pause) is brought to drain with its check on. HAProxy decides what exists.
   */
  async stage(appName: string, server: { name: string; host: string; port: number }): Promise<void> {
    this.requireApp(appName);
    const backend = backendName(appName);
    const wanted: Instance = { name: server.name, address: server.host, port: server.port };
    await this.queue.run(async () => {
      // A new server's file is checked first, before HAProxy is asked anything: a name or
      // address HAProxy would refuse, or a run folder that cannot be written, fails here.
      const known = findApp(this.current, appName)?.servers.some((s) => s.name === wanted.name);
      let candidate = known ? undefined : await this.stageFile(appName, wanted);
      const before = this.current;
      // The whole backend, not just this server: a daemon that led before this one may have
      // added servers this model never saw, and a new server must not take one of their ids.
      const present = await this.reconcileBackend(appName, wanted.name);
      if (this.current !== before) candidate = undefined;
      if (present) {
        if (present.address !== wanted.address || present.port !== wanted.port)
          this.log.warn(
            { app: appName, instance: wanted.name, has: `${present.address}:${present.port}` },
            'lb: staged server already present at another address; kept as it is',
          );
        if (present.state !== 'maint') return;
        await this.runtime.enableHealth(backend, wanted.name);
        await this.runtime.setState(backend, wanted.name, 'drain');
        await this.commit(withServerState(this.current, appName, wanted.name, 'drain'));
        return;
      }
      candidate ??= await this.stageFile(appName, wanted);
      await this.addStagedServer(appName, candidate);
    });
  }

  /** Puts a staged server in rotation (`state ready`); a ready one is done, a missing one refused. */
  async promote(appName: string, name: string): Promise<void> {
    this.requireApp(appName);
    await this.queue.run(async () => {
      const present = await this.reconcile(appName, name);
      if (!present) throw unknownServer(appName, name, 'stage it first');
      if (present.state === 'ready') return;
      await this.runtime.setState(backendName(appName), name, 'ready');
      await this.commit(withServerState(this.current, appName, name, 'ready'));
    });
  }

  /**
   * `drain` (a server in `maint` stays there: it takes no new session either), then waits
   * outside the queue until it has no session and no queue, or `timeoutMs`. A server HAProxy
   * does not have, or that goes while waiting, is drained.
   */
  async drain(
    appName: string,
    name: string,
    timeoutMs: number,
    call: { signal?: AbortSignal } = {},
  ): Promise<{ drained: boolean }> {
    const { drained } = await this.drainFor(appName, name, timeoutMs, call.signal);
    return { drained };
  }

  /**
   * `maint`, cut what sessions remain, `del server`, then wait until no HAProxy worker (an old
   * one after a reload) may still send to it: when this resolves the container may be stopped.
   * A server HAProxy does not have is not deleted again, but the wait for old workers still
   * applies: it may have been deleted just before a restart, while an old worker knew it.
   */
  async remove(appName: string, name: string, call: { signal?: AbortSignal } = {}): Promise<void> {
    await this.removeServer(appName, name, { cutSessions: true, ...call });
    await this.waitUntilStoppable(appName, name, this.current.hardStopAfterMs + 5_000, call.signal);
  }

  /**
   * Retires an instance's server: `drain`, wait for no session and no queue (or the drain timeout,
   * after which the remaining sessions are cut), `maint`, `del server`, and then wait until
   * no old worker still routes to it. When this resolves the container may be stopped.
   */
  async retireServer(
    appName: string,
    name: string,
    opts: { drainTimeoutMs?: number; stopWaitTimeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<RetireOutcome> {
    const app = this.requireApp(appName);
    const drain = await this.drainFor(appName, name, opts.drainTimeoutMs ?? app.drainTimeoutMs, opts.signal);
    if (!drain.present) return { drained: true, waitedMs: 0, alreadyGone: true };
    await this.removeServer(appName, name, {
      cutSessions: !drain.drained,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    await this.waitUntilStoppable(
      appName,
      name,
      opts.stopWaitTimeoutMs ?? this.current.hardStopAfterMs + 5_000,
      opts.signal,
    );
    return { drained: drain.drained, waitedMs: drain.waitedMs, alreadyGone: false };
  }

  /**
   * First half of a retirement, for callers with a step in between (deregistering from etcd):
   * `drain`, then wait until the server has no session and no queue, or the drain timeout.
   */
  async drainServer(
    appName: string,
    name: string,
    opts: { drainTimeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<{ drained: boolean; waitedMs: number }> {
    const app = this.requireApp(appName);
    const { drained, waitedMs } = await this.drainFor(
      appName,
      name,
      opts.drainTimeoutMs ?? app.drainTimeoutMs,
      opts.signal,
    );
    return { drained, waitedMs };
  }

  /**
   * Second half: `maint`, cut what is left when asked, `del server`, and drop it from the
   * model and the file. A server HAProxy does not have is done. Stop the container only once
   * `canStopInstance` agrees.
   */
  async removeServer(
    appName: string,
    name: string,
    opts: { cutSessions?: boolean; signal?: AbortSignal } = {},
  ): Promise<void> {
    this.requireApp(appName);
    const backend = backendName(appName);
    const present = await this.queue.run(async () => {
      const server = await this.reconcile(appName, name, opts.signal);
      if (!server) return false;
      if (server.state !== 'maint') {
        await this.runtime.setState(backend, name, 'maint');
        // The model only: the file is written once the server is deleted, a moment from now.
        // A reload in between renders the model; a restart reads HAProxy's own state.
        this.adopt(withServerState(this.current, appName, name, 'maint'));
      }
      if (opts.cutSessions) await this.runtime.shutdownSessions(backend, name);
      return true;
    });
    if (!present) return;
    // `del server` refuses while a connection is attached; those end quickly once in maint.
    // The wait between attempts is spent outside the queue, so other apps' changes go on.
    const deadline = Date.now() + DELETE_WAIT_MS;
    while (!(await this.queue.run(() => this.deleteIfIdle(appName, name, Date.now() > deadline)))) {
      opts.signal?.throwIfAborted();
      await sleep(DELETE_RETRY_MS, opts.signal);
    }
  }

  /**
   * For a glint restarted while HAProxy kept running: takes the servers (and their ready,
   * drain or maint state) of the model's apps from HAProxy, so the next file write keeps
   * them. Call it before any other change; `writeInitialConfig` is for a HAProxy not yet started.
   */
  async adoptRunningServers(): Promise<LbServer[]> {
    return this.queue.run(async () => {
      const observed = await this.serverStates();
      const apps = this.current.apps.map((app) => ({ ...app, servers: observed.get(app.name) ?? [] }));
      await this.commit({ ...this.current, apps });
      return apps.flatMap((a) => a.servers);
    });
  }

  /** HAProxy's live view of an app's servers: status, last check, sessions. */
  observeServers(appName: string): Promise<StatRow[]> {
    return this.runtime.backendStat(backendName(appName));
  }

  /**
   * Applies a structural change with a reload: render, validate with `haproxy -c` (an invalid
   * file is never installed), save the servers' runtime state, install keeping the previous
   * file, reload on the master socket and confirm the new worker. Runtime membership is kept.
   */
  async applyStructure(next: LbStructure, opts: { force?: boolean } = {}): Promise<StructureOutcome> {
    return this.queue.run(async () => {
      const started = Date.now();
      const { model, removed } = mergeStructure(this.current, next);
      const text = renderHaproxyConfig(model);
      // `force`: the running HAProxy may not run the installed file (a daemon start after a
      // bootstrap config), so an identical file is no proof that nothing needs reloading.
      if (!opts.force && text === (await this.files.installed())) {
        this.adopt(model);
        return { reloaded: false, durationMs: Date.now() - started, removed };
      }
      await this.files.stage(model, text);
      await writeFileAtomic(this.paths.serverState, await this.runtime.showServersState());
      await this.files.installStaged();
      const before = serverKeys(this.current);
      try {
        const outcome = await this.master.reload();
        this.oldWorkers.superseded(outcome.previousWorkerPids, before);
      } catch (err) {
        await this.files.restorePrevious();
        throw err;
      }
      this.adopt(model);
      this.log.info({ durationMs: Date.now() - started, removed: removed.length }, 'lb: reloaded');
      return { reloaded: true, durationMs: Date.now() - started, removed };
    });
  }

  /** False while an old worker (from before a reload) may still send requests to the server. */
  canStopInstance(appName: string, name: string): Promise<boolean> {
    return this.oldWorkers.canStop(serverKey(appName, name));
  }

  waitUntilStoppable(appName: string, name: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return this.oldWorkers.waitUntilStoppable(serverKey(appName, name), timeoutMs, signal);
  }

  /** Resolves once no worker from before a reload is left. */
  waitOldWorkersGone(timeoutMs: number): Promise<void> {
    return this.oldWorkers.waitAllGone(timeoutMs);
  }

  /** Sets `ready`, `drain` or `maint` by hand (an operator's pause), mirrored in the file. */
  async setServerState(appName: string, name: string, state: ServerState): Promise<void> {
    if (!this.requireApp(appName).servers.some((s) => s.name === name)) throw unknownServer(appName, name);
    await this.queue.run(async () => {
      await this.runtime.setState(backendName(appName), name, state);
      await this.commit(withServerState(this.current, appName, name, state));
    });
  }

  /** Renders and checks the file with the server added in drain; nothing in HAProxy changes. */
  private async stageFile(appName: string, instance: Instance): Promise<Candidate> {
    const candidate = withServerAdded(
      this.current,
      appName,
      { ...instance, state: 'drain' },
      this.highestIds.get(appName),
    );
    await this.files.stage(candidate.model, renderHaproxyConfig(candidate.model));
    return candidate;
  }

  /** `add server` (in maintenance), `enable health`, `state drain`, then installs the staged file. */
  private async addStagedServer(appName: string, { model, server }: Candidate): Promise<void> {
    const app = this.requireApp(appName);
    const backend = backendName(appName);
    const keywords = ['id', String(server.id), ...serverKeywords(app.check)];
    await this.runtime.addServer(backend, server.name, server.address, server.port, keywords);
    try {
      await this.runtime.enableHealth(backend, server.name);
      await this.runtime.setState(backend, server.name, 'drain');
    } catch (err) {
      await this.runtime.delServer(backend, server.name).catch((cleanup) => {
        this.log.error(
          { app: appName, instance: server.name, err: cleanup },
          'lb: could not delete half-added server',
        );
      });
      throw err;
    }
    this.adopt(model);
    await this.files.promote();
    this.log.info(
      { app: appName, instance: server.name, id: server.id },
      'lb: server added, staged in drain',
    );
  }

  /** `drain` unless already draining or in maint, then the wait; `present: false` when HAProxy has no such server. */
  private async drainFor(
    appName: string,
    name: string,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<{ drained: boolean; waitedMs: number; present: boolean }> {
    this.requireApp(appName);
    const backend = backendName(appName);
    const present = await this.queue.run(async () => {
      const server = await this.reconcile(appName, name, signal);
      if (server?.state !== 'ready') return Boolean(server);
      await this.runtime.setState(backend, name, 'drain');
      await this.commit(withServerState(this.current, appName, name, 'drain'));
      return true;
    });
    if (!present) return { drained: true, waitedMs: 0, present };
    const wait = await pollServer(this.runtime, backend, name, hasNoSessions, {
      timeoutMs,
      pollIntervalMs: this.pollIntervalMs,
      whenAbsent: 'done',
      ...(signal ? { signal } : {}),
    });
    if (!wait.met)
      this.log.warn({ app: appName, instance: name, drainTimeoutMs: timeoutMs }, 'lb: drain timed out');
    return { drained: wait.met, waitedMs: wait.waitedMs, present };
  }

  /**
   * HAProxy's record of one server (admin state, id, address), read inside the queue. The
   * model follows it: a server HAProxy has but the model lost (a restart without adoption) is
   * taken in, one HAProxy no longer has is dropped, a state set behind glint's back is kept.
   */
  private async reconcile(
    appName: string,
    name: string,
    signal?: AbortSignal,
  ): Promise<LbServer | undefined> {
    const backend = backendName(appName);
    const observed = (await this.runtime.backendServersState(backend, signal)).find((s) => s.name === name);
    const next = withServerAsObserved(this.current, appName, name, observed && withoutBackend(observed));
    if (next.model !== this.current) await this.commit(next.model);
    return next.server;
  }

  /**
   * HAProxy's record of every server of the app's backend taken into the model (HAProxy decides
   * what exists), read inside the queue; answers the record of `name`, if HAProxy has it.
   */
  private async reconcileBackend(appName: string, name: string): Promise<LbServer | undefined> {
    const backend = backendName(appName);
    const observed = (await this.runtime.backendServersState(backend)).map(withoutBackend);
    const next = withServersAsObserved(this.current, appName, observed);
    if (next !== this.current) await this.commit(next);
    return observed.find((s) => s.name === name);
  }

  /** One `del server` attempt: false while connections are still attached (unless `lastTry`). */
  private async deleteIfIdle(appName: string, name: string, lastTry: boolean): Promise<boolean> {
    try {
      await this.runtime.delServer(backendName(appName), name);
    } catch (err) {
      const busy = err instanceof GlintError && /connections|still/i.test(String(err.details?.reason));
      if (busy && !lastTry) return false;
      // Gone already (deleted by hand, or by an attempt whose answer was lost): done.
      if (!isNoSuchServer(err)) throw err;
    }
    await this.commit(withoutServer(this.current, appName, name));
    this.log.info({ app: appName, instance: name }, 'lb: server deleted');
    return true;
  }

  /** Mirrors a runtime change into the model and into haproxy.cfg, so a later reload keeps it. */
  private async commit(model: LbModel): Promise<void> {
    this.adopt(model);
    await this.files.mirror(model);
  }

  /** Takes `model` as current, remembering each app's highest server id so none is reused. */
  private adopt(model: LbModel): void {
    this.current = model;
    for (const app of model.apps) {
      const highest = Math.max(this.highestIds.get(app.name) ?? 0, ...app.servers.map((s) => s.id));
      this.highestIds.set(app.name, highest);
    }
  }

  /** The model's entry for a server `stage` just made sure of. */
  private modelServer(appName: string, name: string): LbServer {
    const server = this.requireApp(appName).servers.find((s) => s.name === name);
    if (!server) throw unknownServer(appName, name);
    return server;
  }

  private get pollIntervalMs(): number {
    return this.opts.pollIntervalMs ?? 100;
  }

  private requireApp(appName: string) {
    const app = findApp(this.current, appName);
    if (!app) throw unknownApp(appName);
    return app;
  }
}

const withoutBackend = ({ backend: _backend, ...server }: ObservedServer): LbServer => server;

type Candidate = { model: LbModel; server: LbServer };
