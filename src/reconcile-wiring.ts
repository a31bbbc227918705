import type { GlintConfig } from './config/index.ts';
import { EngineEvents } from './docker/index.ts';
import { type EtcdClient, EtcdStateStore } from './etcd/index.ts';
import type { HaproxyLoadBalancer } from './lb/index.ts';
import type { Logger } from './log/index.ts';
import { type ReconcileAction, Reconciler } from './reconcile/index.ts';
import { engineFor, type RolloutWiring } from './rollout-wiring.ts';

/** How long an undeclared app's server may drain before its container stops. */
const UNDECLARED_DRAIN_MS = 10_000;
const UNDECLARED_STOP_MS = 10_000;

export type ReconcileWiring = {
  reconciler: Reconciler;
  /** Starts the engines' event streams and the loop (on election). */
  start(): Promise<void>;
  stop(): Promise<void>;
};

/**
 * The reconciler on the daemon's adapters: engine events of every declared endpoint wake a pass
 * of their app at once, and so does a probe that sees an instance change phase.
 */
export function wireReconciler(opts: {
  config: () => GlintConfig;
  etcd: EtcdClient;
  lb: HaproxyLoadBalancer;
  wiring: RolloutWiring;
  log: Logger;
  onPass?: (pass: { ms: number; containers: number; actions: ReconcileAction[] }) => void;
}): ReconcileWiring {
  const { wiring } = opts;
  const log = opts.log.child({ component: 'reconcile' });
  const store = new EtcdStateStore(opts.etcd);
  const config = opts.config();
  const reconciler = new Reconciler({
    apps: () => opts.config().apps,
    list: (app) => wiring.nodes.list(app),
    store,
    engine: wiring.engine,
    servers: (app) => opts.lb.servers(app),
    allServers: () => opts.lb.serverStates(),
    forgetGone: async (app, instance) => {
      await opts.lb.remove(app, instance);
      await wiring.registry.deregister(app, instance);
    },
    retireUndeclared: async (c) => {
      // Its backend left HAProxy when the declaration dropped it; an unknown one is done.
      await opts.lb
        .drain(c.app, c.instance, UNDECLARED_DRAIN_MS)
        .then(() => opts.lb.remove(c.app, c.instance))
        .catch((err: unknown) => log.debug({ err, app: c.app }, 'no HAProxy server to drain'));
      await wiring.registry.deregister(c.app, c.instance);
      await wiring.nodes.stopAndRemove(c.node, c.containerId, UNDECLARED_STOP_MS);
    },
    logTail: (node, id, lines) => wiring.nodes.logTail(node, id, lines),
    notify: {
      instanceFailed: (e) => wiring.engine.events.emit('instance:failed', e),
      backoff: (e) => wiring.engine.events.emit('instance:backoff', e),
    },
    clock: { now: () => Date.now() },
    log,
    // Read once: a changed interval takes effect at the next start (the next election).
    intervalMs: config.reconcile.interval,
    get undeclaredGraceMs() {
      return opts.config().reconcile.undeclaredGrace;
    },
    ...(opts.onPass ? { onPass: opts.onPass } : {}),
  });
  wiring.engine.onHealthChange((app) => reconciler.poke(app));
  // Whatever ended, the app is the reconciler's again: look at it now.
  wiring.engine.events.on('deployment:finished', (r) => {
    if (r.kind === 'heal') reconciler.healEnded(r.app, r.state === 'failed' ? r.error?.message : undefined);
    else reconciler.poke(r.app);
  });
  let streams: EngineEvents[] = [];
  return {
    reconciler,
    async start() {
      streams = config.docker.endpoints.map(
        (e) =>
          new EngineEvents(engineFor(e), {
            logger: log,
            onEvent: (event) => {
              log.debug(
                { app: event.app, event: event.kind, containerId: event.containerId.slice(0, 12) },
                'engine event',
              );
              reconciler.noteEvent(event);
            },
            // After a gap in the stream anything may have happened: look at everything.
            onConnection: (state) => {
              if (state === 'connected') reconciler.poke();
            },
          }),
      );
      await Promise.all(streams.map((s) => s.start()));
      reconciler.start();
    },
    async stop() {
      await reconciler.stop();
      await Promise.all(streams.splice(0).map((s) => s.close()));
    },
  };
}
