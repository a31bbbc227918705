import { GlintError } from '../errors/index.ts';
import { assignServerIds, type UnnumberedServer } from './assign-server-ids.ts';
import { LbErrorCode } from './error-codes.ts';
import type { LbApp, LbModel, LbServer, ServerState } from './lb-model.ts';

/** A model change for one app's servers; pure helpers the load balancer mirrors runtime changes with. */
function mapApp(model: LbModel, appName: string, change: (app: LbApp) => LbApp): LbModel {
  if (!model.apps.some((a) => a.name === appName)) {
    throw new GlintError(
      LbErrorCode.UnknownApp,
      `the load balancer has no app "${appName}"; apply a structure with it first`,
      {
        details: { app: appName },
      },
    );
  }
  return { ...model, apps: model.apps.map((a) => (a.name === appName ? change(a) : a)) };
}

/**
 * Adds a server with an id above every id the app holds and above `highestUsed` (ids of
 * servers deleted since): an id is never reused within a backend's life, so the server-state
 * file never restores one instance's state onto another.
 */
export function withServerAdded(
  model: LbModel,
  appName: string,
  server: Omit<LbServer, 'id'>,
  highestUsed = 0,
): { model: LbModel; server: LbServer } {
  const next = mapApp(model, appName, (app) => {
    const taken = app.servers.map((s) => s.id);
    return { ...app, servers: [...app.servers, { ...server, id: Math.max(highestUsed, ...taken) + 1 }] };
  });
  const added = next.apps.find((a) => a.name === appName)!.servers.at(-1)!;
  return { model: next, server: added };
}

/**
 * The model after taking HAProxy's record of all of an app's servers: those HAProxy has, as it
 * has them (another daemon may have added or removed some). The same model when they agree.
 */
export function withServersAsObserved(
  model: LbModel,
  appName: string,
  observed: readonly LbServer[],
): LbModel {
  const key = (s: LbServer) => `${s.name} ${s.address}:${s.port} ${s.id} ${s.state}`;
  const known = model.apps.find((a) => a.name === appName)?.servers ?? [];
  const same =
    known.length === observed.length &&
    known.map(key).sort().join('\n') === observed.map(key).sort().join('\n');
  return same ? model : mapApp(model, appName, (app) => ({ ...app, servers: [...observed] }));
}

/**
 * The model after taking HAProxy's record of one server (`observed`, undefined when HAProxy has
 * none): a server the model lost track of (a restart) is taken in with its id, one HAProxy no
 * longer has is dropped, a state set behind glint's back is kept. The same model when they agree.
 */
export function withServerAsObserved(
  model: LbModel,
  appName: string,
  name: string,
  observed: LbServer | undefined,
): { model: LbModel; server: LbServer | undefined } {
  const known = model.apps.find((a) => a.name === appName)?.servers.find((s) => s.name === name);
  if (!observed) return { model: known ? withoutServer(model, appName, name) : model, server: undefined };
  if (!known || known.id !== observed.id) {
    const next = mapApp(model, appName, (app) => ({
      ...app,
      servers: [...app.servers.filter((s) => s.name !== name), observed],
    }));
    return { model: next, server: observed };
  }
  if (known.state === observed.state) return { model, server: known };
  return {
    model: withServerState(model, appName, name, observed.state),
    server: { ...known, state: observed.state },
  };
}

export function withServerState(model: LbModel, appName: string, name: string, state: ServerState): LbModel {
  return mapApp(model, appName, (app) => ({
    ...app,
    servers: app.servers.map((s) => (s.name === name ? { ...s, state } : s)),
  }));
}

export function withoutServer(model: LbModel, appName: string, name: string): LbModel {
  return mapApp(model, appName, (app) => ({ ...app, servers: app.servers.filter((s) => s.name !== name) }));
}

export type LbStructureApp = Omit<LbApp, 'servers'> & { servers?: UnnumberedServer[] };
/** What a structural change declares: apps, routing, checks, timeouts. */
export type LbStructure = Omit<LbModel, 'apps'> & { apps: LbStructureApp[] };

export type ServerKey = { app: string; name: string };

/**
 * The model after a structural change: apps that stay keep the servers the runtime API put
 * there (membership is never changed by a reload), new apps start with the servers they
 * declare, and the servers of removed apps are listed so they are not stopped too early.
 */
export function mergeStructure(
  current: LbModel,
  next: LbStructure,
): { model: LbModel; removed: ServerKey[] } {
  const apps = next.apps.map((app) => ({
    ...app,
    servers: current.apps.find((a) => a.name === app.name)?.servers ?? app.servers ?? [],
  }));
  const kept = new Set(next.apps.map((a) => a.name));
  const removed = current.apps
    .filter((a) => !kept.has(a.name))
    .flatMap((a) => a.servers.map((s) => ({ app: a.name, name: s.name })));
  return { model: assignServerIds(current, { ...next, apps }), removed };
}

export function serverKeys(model: LbModel): string[] {
  return model.apps.flatMap((a) => a.servers.map((s) => serverKey(a.name, s.name)));
}

export function serverKey(app: string, name: string): string {
  return `${app}/${name}`;
}
