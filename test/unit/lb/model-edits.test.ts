import { describe, expect, it } from 'vitest';
import { DEFAULT_TIMEOUTS, type LbApp, type LbModel } from '../../../src/lb/index.ts';
import {
  mergeStructure,
  withoutServer,
  withServerAdded,
  withServerAsObserved,
  withServerState,
  withServersAsObserved,
} from '../../../src/lb/model-edits.ts';
import { SerialQueue } from '../../../src/lb/serial-queue.ts';

const check = {
  type: 'http' as const,
  path: '/healthz',
  intervalMs: 1000,
  rise: 2,
  fall: 2,
  timeoutMs: 1000,
};
const app = (name: string, servers: LbApp['servers'] = []): LbApp => ({
  name,
  frontend: { bind: ':8080' },
  check,
  drainTimeoutMs: 1000,
  servers,
});
const s = (name: string, id: number) => ({
  name,
  address: '127.0.0.1',
  port: 30000 + id,
  id,
  state: 'ready' as const,
});
const model = (apps: LbApp[]): LbModel => ({
  runDir: '/run',
  hardStopAfterMs: 30_000,
  timeouts: DEFAULT_TIMEOUTS,
  apps,
});

describe('membership edits', () => {
  it('adds a server with the next id of its app', () => {
    const { model: next, server } = withServerAdded(model([app('web', [s('a', 1), s('b', 4)])]), 'web', {
      name: 'c',
      address: '127.0.0.1',
      port: 1,
      state: 'drain',
    });
    expect(server).toMatchObject({ name: 'c', id: 5, state: 'drain' });
    expect(next.apps[0]!.servers.map((x) => x.name)).toEqual(['a', 'b', 'c']);
  });

  it('changes one server state and removes one server, leaving the others', () => {
    const m = model([app('web', [s('a', 1), s('b', 2)])]);
    expect(withServerState(m, 'web', 'b', 'drain').apps[0]!.servers.map((x) => x.state)).toEqual([
      'ready',
      'drain',
    ]);
    expect(withoutServer(m, 'web', 'a').apps[0]!.servers.map((x) => x.name)).toEqual(['b']);
  });

  it('refuses an app it does not know, naming it', () => {
    expect(() => withoutServer(model([]), 'ghost', 'a')).toThrow(/no app "ghost"/);
  });
});

describe('withServerAsObserved: the model follows HAProxy for one server', () => {
  const m = model([app('web', [s('a', 1), s('b', 2)])]);
  const rows = [
    {
      name: 'agrees: the same model, unchanged',
      observed: s('a', 1),
      want: ['a:1:ready', 'b:2:ready'],
      same: true,
    },
    { name: 'a server HAProxy lacks is dropped', observed: undefined, want: ['b:2:ready'], same: false },
    {
      name: 'a state set behind glint’s back is kept',
      observed: { ...s('a', 1), state: 'maint' as const },
      want: ['a:1:maint', 'b:2:ready'],
      same: false,
    },
    {
      name: 'a server the model lost is taken in with its id',
      observed: s('c', 7),
      want: ['a:1:ready', 'b:2:ready', 'c:7:ready'],
      same: false,
    },
    {
      name: 'another id replaces the remembered one',
      observed: s('a', 9),
      want: ['b:2:ready', 'a:9:ready'],
      same: false,
    },
  ];
  it.each(rows)('$name', ({ observed, want, same }) => {
    const name = observed?.name ?? 'a';
    const next = withServerAsObserved(m, 'web', name, observed);
    expect(next.model.apps[0]!.servers.map((x) => `${x.name}:${x.id}:${x.state}`)).toEqual(want);
    expect(next.model === m).toBe(same);
    expect(next.server).toEqual(observed);
  });
});

describe('withServersAsObserved: the model follows HAProxy for a whole backend', () => {
  const m = model([app('web', [s('a', 1), s('b', 2)]), app('api', [s('x', 1)])]);

  it('is the same model when HAProxy agrees, whatever the order', () => {
    expect(withServersAsObserved(m, 'web', [s('b', 2), s('a', 1)])).toBe(m);
  });

  it('takes servers another daemon added and drops ones it removed, leaving other apps alone', () => {
    const next = withServersAsObserved(m, 'web', [s('a', 1), s('c', 7)]);
    expect(next.apps.find((a) => a.name === 'web')!.servers).toEqual([s('a', 1), s('c', 7)]);
    expect(next.apps.find((a) => a.name === 'api')).toBe(m.apps[1]);
  });

  it('takes a state set behind glint’s back', () => {
    const next = withServersAsObserved(m, 'web', [s('a', 1), { ...s('b', 2), state: 'maint' }]);
    expect(next.apps[0]!.servers[1]!.state).toBe('maint');
  });
});

describe('mergeStructure', () => {
  it('keeps runtime membership of apps that stay and ignores servers a structure declares for them', () => {
    const current = model([app('web', [s('a', 1)])]);
    const { model: next } = mergeStructure(current, {
      ...current,
      timeouts: { ...DEFAULT_TIMEOUTS, serverMs: 5000 },
      apps: [{ ...app('web'), servers: [{ name: 'other', address: 'x', port: 1, state: 'ready' }] }],
    });
    expect(next.apps[0]!.servers).toEqual([s('a', 1)]);
    expect(next.timeouts.serverMs).toBe(5000);
  });

  it('starts a new app with the servers it declares, numbered', () => {
    const { model: next } = mergeStructure(model([]), {
      ...model([]),
      apps: [{ ...app('api'), servers: [{ name: 'x', address: '127.0.0.1', port: 1, state: 'ready' }] }],
    });
    expect(next.apps[0]!.servers).toEqual([
      { name: 'x', address: '127.0.0.1', port: 1, state: 'ready', id: 1 },
    ]);
  });

  it('lists the servers of removed apps so they are not stopped too early', () => {
    const { removed } = mergeStructure(model([app('web', [s('a', 1)]), app('old', [s('b', 1)])]), {
      ...model([]),
      apps: [app('web')],
    });
    expect(removed).toEqual([{ app: 'old', name: 'b' }]);
  });
});

describe('SerialQueue', () => {
  it('runs tasks one at a time in call order, even after a failure', async () => {
    const queue = new SerialQueue();
    const events: string[] = [];
    const task =
      (name: string, fail = false) =>
      async () => {
        events.push(`start ${name}`);
        await Promise.resolve();
        events.push(`end ${name}`);
        if (fail) throw new Error(name);
      };
    const results = await Promise.allSettled([
      queue.run(task('a')),
      queue.run(task('b', true)),
      queue.run(task('c')),
    ]);
    expect(events).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });
});
