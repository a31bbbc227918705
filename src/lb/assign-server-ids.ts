import type { LbApp, LbModel, LbServer } from './lb-model.ts';

export type UnnumberedServer = Omit<LbServer, 'id'> & { id?: number };
export type UnnumberedApp = Omit<LbApp, 'servers'> & { servers: UnnumberedServer[] };
export type UnnumberedModel = Omit<LbModel, 'apps'> & { apps: UnnumberedApp[] };

/**
 * Gives every server of `next` a numeric id that stays the same across renders: a server
 * present in `previous` (same app, same name) keeps its id, an id asked for in `next` is kept
 * when free, and any other server gets the next id above every id the app holds in either
 * model, so the server-state file never restores one instance's state onto another. Pure.
 */
export function assignServerIds(previous: LbModel | undefined, next: UnnumberedModel): LbModel {
  return { ...next, apps: next.apps.map((app) => numberApp(previous, app)) };
}

function numberApp(previous: LbModel | undefined, app: UnnumberedApp): LbApp {
  const before = new Map(
    (previous?.apps.find((a) => a.name === app.name)?.servers ?? []).map((s) => [s.name, s.id]),
  );
  const taken = new Set<number>(before.values());
  const ids = app.servers.map((s) => before.get(s.name));
  app.servers.forEach((s, i) => {
    if (ids[i] === undefined && s.id !== undefined && s.id > 0 && !taken.has(s.id)) {
      ids[i] = s.id;
      taken.add(s.id);
    }
  });
  let nextId = Math.max(0, ...taken);
  const servers = app.servers.map((s, i) => {
    const id = ids[i] ?? ++nextId;
    return { ...s, id };
  });
  return { ...app, servers };
}
