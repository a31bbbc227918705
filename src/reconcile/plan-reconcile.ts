import { backoffHolds, type CrashBackoff } from './crash-backoff.ts';

/** One of glint's containers as a single list call shows it (no inspect). Times are epoch ms. */
export type ReconcileContainer = {
  app: string;
  instance: string;
  node: string;
  containerId: string;
  specHash: string;
  running: boolean;
  /** Why it is not running: "exited with code 137", "killed: out of memory". */
  exit?: string | undefined;
  createdAt: number;
};

/** Everything the reconciler knows about one app at one instant. */
export type AppObservation = {
  app: string;
  declared: boolean;
  /** An app record exists in this installation's etcd: glint ran this app here. */
  known: boolean;
  /** The current release's revision and count; absent until a first deployment succeeded. */
  desired?: { specHash: string; instances: number } | undefined;
  /** A deployment of the app is active: it replaces what dies itself. */
  activeDeployment: boolean;
  containers: readonly ReconcileContainer[];
  /** Instances glint's probe saw fail after they were ready, with why. */
  failing: ReadonlyMap<string, string>;
  /**
   * Running instances HAProxy does not have in rotation (absent, or left in `drain` or `maint`
   * by a HAProxy restarted by hand); undefined when HAProxy could not be read.
   */
  outOfRotation?: readonly string[] | undefined;
  backoff?: CrashBackoff | undefined;
  /** The app's last heal failed, with why: the next one is part of the same crash loop. */
  lastHealFailure?: string | undefined;
  /** When a pass first saw glint containers of this app while it was not declared. */
  undeclaredSince?: number | undefined;
};

/** What made a heal crash-driven: an instance (whose log lines tell more), or a failed heal. */
export type Culprit = { why: string; instance?: string; node?: string; containerId?: string };

export type ReconcileAction =
  | { kind: 'ok'; app: string }
  /** A deployment is active: it owns the app's instances until it ends. */
  | { kind: 'busy'; app: string }
  /** Nothing to heal towards yet (no deployment of the app ever succeeded). */
  | { kind: 'unreleased'; app: string }
  /**
   * Start a `heal` deployment. `crash`: an instance died or failed health (counts towards the
   * crash-loop backoff); otherwise instances are missing, surplus or drifted.
   */
  | { kind: 'heal'; app: string; why: string; crash: boolean; culprit?: Culprit | undefined }
  | { kind: 'backoff'; app: string; until: number; why: string; culprit?: Culprit | undefined }
  /** Undeclared, within its grace period. */
  | { kind: 'await-grace'; app: string; since: number; until: number }
  /** Undeclared past its grace period: drain and remove these. */
  | { kind: 'remove'; app: string; containers: ReconcileContainer[] }
  /** Undeclared and never run by this installation: another glint's, left alone. */
  | { kind: 'foreign'; app: string };

export type ReconcileInput = {
  apps: readonly AppObservation[];
  undeclaredGraceMs: number;
  now: number;
};

function crashOf(o: AppObservation): Culprit | undefined {
  for (const c of o.containers) {
    if (!c.running)
      return {
        ...pick(c),
        why: `instance ${c.instance} stopped: ${c.exit ?? 'the container is not running'}`,
      };
    const failing = o.failing.get(c.instance);
    if (failing) return { ...pick(c), why: `instance ${c.instance} failed its health check: ${failing}` };
  }
  if (o.lastHealFailure) return { why: `the last heal failed: ${o.lastHealFailure}` };
  return undefined;
}

const pick = (c: ReconcileContainer) => ({ instance: c.instance, node: c.node, containerId: c.containerId });

/** What is wrong with a declared app's containers besides crashes: drift, missing, surplus. */
function driftOf(o: AppObservation, desired: { specHash: string; instances: number }): string | undefined {
  const drifted = o.containers.filter((c) => c.specHash !== desired.specHash);
  if (drifted.length)
    return `instance ${drifted[0]!.instance} does not match the current revision (spec ${drifted[0]!.specHash || 'none'}, want ${desired.specHash})`;
  if (o.containers.length < desired.instances)
    return `${o.containers.length} of ${desired.instances} instances exist`;
  if (o.containers.length > desired.instances)
    return `${o.containers.length} instances exist, ${desired.instances} declared`;
  const out = o.outOfRotation?.[0];
  if (out) return `instance ${out} is not in HAProxy's rotation`;
  return undefined;
}

function planApp(o: AppObservation, graceMs: number, now: number): ReconcileAction {
  const { app } = o;
  if (!o.declared) {
    if (!o.known) return { kind: 'foreign', app };
    if (o.containers.length === 0) return { kind: 'ok', app };
    const since = o.undeclaredSince ?? now;
    if (now < since + graceMs) return { kind: 'await-grace', app, since, until: since + graceMs };
    return { kind: 'remove', app, containers: [...o.containers] };
  }
  if (o.activeDeployment) return { kind: 'busy', app };
  if (!o.desired) return { kind: 'unreleased', app };
  const culprit = crashOf(o);
  if (culprit) {
    const until = backoffHolds(o.backoff, o.desired.specHash, now);
    if (until !== undefined)
      return {
        kind: 'backoff',
        app,
        until,
        why: `crash loop (heal ${o.backoff!.streak}): ${culprit.why}`,
        culprit,
      };
    return { kind: 'heal', app, why: culprit.why, crash: true, culprit };
  }
  const drift = driftOf(o, o.desired);
  return drift ? { kind: 'heal', app, why: drift, crash: false } : { kind: 'ok', app };
}

/**
 * One reconcile pass decided from data: for each app, nothing, a `heal` deployment, a wait
 * (crash-loop backoff, an undeclared app's grace period) or the removal of an undeclared app's
 * containers. Pure: the shell lists, reads and acts.
 */
export function planReconcile(input: ReconcileInput): ReconcileAction[] {
  return input.apps.map((o) => planApp(o, input.undeclaredGraceMs, input.now));
}
