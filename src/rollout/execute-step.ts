import type { InstanceSpec } from '../docker/index.ts';
import type { DeploymentRecord, DeploymentStep, Release } from '../etcd/index.ts';
import type { HealthCheck } from '../health/index.ts';
import type { Logger } from '../log/index.ts';
import type { PlacementRule } from '../placement/index.ts';
import type { HealthTracker } from './health-tracker.ts';
import type { Clock, ContainerRuntime, LoadBalancer, RuntimeInstance, ServiceRegistry } from './ports.ts';
import type { RecordWriter } from './record-writer.ts';
import { registryEntry } from './registry-entry.ts';
import type { RolloutEvents } from './rollout-events.ts';
import { stepEvent } from './step-event.ts';

/** Everything a step needs; built once per deployment run. */
export type StepContext = {
  app: string;
  runtime: ContainerRuntime;
  lb: LoadBalancer;
  registry: ServiceRegistry;
  clock: Clock;
  log: Logger;
  events: RolloutEvents;
  writer: RecordWriter;
  health: HealthTracker;
  check: HealthCheck;
  drainTimeoutMs: number;
  stopTimeoutMs: number;
  specFor: (release: Release, instance: string, node: string) => Promise<InstanceSpec>;
  /** Where the app's new instances may go (its declared constraints and spread). */
  placement: PlacementRule;
  signal: AbortSignal;
  /**
   * Told the moment a step's work is done, before its end is recorded, so the next step can be
   * planned meanwhile. True: the end is written with the next write (`updateLater`), which the
   * caller sends soon; the writer keeps the two in order.
   */
  onWorkDone?: (instance: string, kind: DeploymentStep['kind']) => boolean;
};

/**
 * How often a new instance's network probe runs until it first passes: a booting app is seen
 * answering within this, not up to one declared interval later. Exec and Docker probes start
 * a process each time, so they keep the declared interval.
 */
const STARTUP_PROBE_MS = 25;

/** The longest a failed instance is drained before it is taken out. */
const DISCARD_DRAIN_MS = 5_000;

type StepFields = Pick<DeploymentStep, 'kind' | 'instance' | 'node'> & Partial<DeploymentStep>;

const iso = (ctx: StepContext) => new Date(ctx.clock.now()).toISOString();

/** Writes the step as running before anything happens, and returns a way to finish it. */
async function beginStep(ctx: StepContext, fields: StepFields) {
  const attempt =
    ctx.writer.record.steps.filter((s) => s.kind === fields.kind && s.instance === fields.instance).length +
    1;
  let begun: DeploymentStep | undefined;
  await ctx.writer.update((r) => {
    const seq = (r.steps.at(-1)?.seq ?? 0) + 1;
    begun = { seq, attempt, state: 'running', startedAt: iso(ctx), ...fields };
    return { ...r, steps: [...r.steps, begun] };
  });
  const step = begun as DeploymentStep;
  ctx.events.emit('step:started', stepEvent(ctx.app, ctx.writer.record.id, step));
  /** The step as it ends, and its write: the event tells the step even when the write failed. */
  const finish = (state: DeploymentStep['state'], patch: Partial<DeploymentStep> = {}, later = false) => {
    const ended: DeploymentStep = { ...step, ...patch, state, finishedAt: iso(ctx) };
    const change = (r: DeploymentRecord) => ({
      ...r,
      steps: r.steps.map((s) => (s.seq === step.seq ? ended : s)),
    });
    const written = later ? ctx.writer.updateLater(change) : ctx.writer.update(change);
    return { ended, written };
  };
  return { finish };
}

async function recorded(
  ctx: StepContext,
  fields: StepFields,
  work: (note: (p: Partial<DeploymentStep>) => void) => Promise<void>,
) {
  const step = await beginStep(ctx, fields);
  const patch: Partial<DeploymentStep> = {};
  try {
    await work((p) => Object.assign(patch, p));
    const later = ctx.onWorkDone?.(fields.instance, fields.kind) ?? false;
    const done = step.finish('succeeded', patch, later);
    await done.written;
    ctx.events.emit('step:finished', stepEvent(ctx.app, ctx.writer.record.id, done.ended));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const failed = step.finish('failed', { ...patch, message });
    await failed.written.catch(() => undefined);
    ctx.events.emit('step:failed', { ...stepEvent(ctx.app, ctx.writer.record.id, failed.ended), message });
    throw err;
  }
}

/** Create and start an instance of `release` on `node`, start probing it, stage it in HAProxy. */
export function startInstance(ctx: StepContext, release: Release, instance: string, node: string) {
  // The env is read from etcd while the step is being recorded: both are round trips, neither
  // changes anything, and the container is only made once the record says so.
  const specRead = ctx.specFor(release, instance, node);
  specRead.catch(() => undefined);
  return recorded(ctx, { kind: 'start', instance, node, specHash: release.specHash }, async (note) => {
    const spec = { ...(await specRead), deploymentId: ctx.writer.record.id };
    const launched = await ctx.runtime.launch(node, spec, { signal: ctx.signal });
    note({ containerId: launched.containerId, address: `${launched.host}:${launched.port}` });
    // glint's probe starts while HAProxy is being told: the app boots meanwhile anyway.
    watchInstance(ctx, {
      instance,
      node,
      containerId: launched.containerId,
      host: launched.host,
      port: launched.port,
      startedAt: ctx.clock.now(),
    });
    try {
      await ctx.lb.stage(ctx.app, { name: instance, host: launched.host, port: launched.port });
    } catch (err) {
      ctx.health.unwatch(instance);
      await ctx.runtime.stopAndRemove(node, launched.containerId, 0).catch(() => undefined);
      throw err;
    }
  });
}

/** Starts glint's own probe of an instance (new, or adopted after a restart). */
export function watchInstance(
  ctx: Pick<StepContext, 'health' | 'runtime' | 'check'>,
  i: { instance: string; node: string; containerId: string; host: string; port: number; startedAt: number },
) {
  const target = { containerId: i.containerId, host: i.host, port: i.port };
  ctx.health.watch({
    key: i.instance,
    probe: (signal) => ctx.runtime.probe(i.node, ctx.check, target, { signal }),
    policy: ctx.check,
    intervalMs: ctx.check.interval,
    ...(ctx.check.type === 'http' || ctx.check.type === 'tcp' ? { startupIntervalMs: STARTUP_PROBE_MS } : {}),
    startedAt: i.startedAt,
  });
}

/** Into rotation, then into the service registry. */
export function promoteInstance(ctx: StepContext, c: RuntimeInstance, release: Release) {
  return recorded(
    ctx,
    { kind: 'promote', instance: c.instance, node: c.node, containerId: c.containerId },
    async () => {
      await ctx.lb.promote(ctx.app, c.instance);
      if (c.host && c.port)
        await ctx.registry.register(registryEntry(ctx.app, { ...c, host: c.host, port: c.port }, release));
    },
  );
}

/** Deregister and drain, out of HAProxy, stop, remove: each part is done already or safe to redo. */
export function retireInstance(ctx: StepContext, c: RuntimeInstance) {
  return recorded(
    ctx,
    { kind: 'retire', instance: c.instance, node: c.node, containerId: c.containerId },
    async (note) => {
      // Out of the service registry as the drain begins, as Kubernetes takes a terminating pod
      // out of its endpoints: nobody should find an instance that is leaving.
      const [{ drained }] = await Promise.all([
        ctx.lb.drain(ctx.app, c.instance, ctx.drainTimeoutMs, { signal: ctx.signal }),
        ctx.registry.deregister(ctx.app, c.instance),
      ]);
      if (!drained) note({ message: `sessions remained after drainTimeout ${ctx.drainTimeoutMs}ms` });
      await ctx.lb.remove(ctx.app, c.instance, { signal: ctx.signal });
      await ctx.runtime.stopAndRemove(c.node, c.containerId, ctx.stopTimeoutMs, { signal: ctx.signal });
      ctx.health.unwatch(c.instance);
    },
  );
}

/** A failed instance leaves at once: it serves nothing worth draining. Returns its last log lines. */
export async function discardInstance(
  ctx: StepContext,
  c: RuntimeInstance,
  reason: string,
): Promise<string[]> {
  let logs: string[] = [];
  await recorded(
    ctx,
    { kind: 'discard', instance: c.instance, node: c.node, containerId: c.containerId, message: reason },
    async () => {
      logs = await ctx.runtime.logTail(c.node, c.containerId, 20).catch(() => []);
      // A short drain first: an instance judged failed while still answering (a probe timing
      // out on a loaded machine) finishes what it serves; a dead one has no sessions to wait for.
      const drainMs = Math.min(ctx.drainTimeoutMs, DISCARD_DRAIN_MS);
      await ctx.lb.drain(ctx.app, c.instance, drainMs, { signal: ctx.signal });
      await ctx.lb.remove(ctx.app, c.instance, { signal: ctx.signal });
      await ctx.registry.deregister(ctx.app, c.instance);
      await ctx.runtime.stopAndRemove(c.node, c.containerId, ctx.stopTimeoutMs, { signal: ctx.signal });
      ctx.health.unwatch(c.instance);
    },
  );
  return logs;
}
