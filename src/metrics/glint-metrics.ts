import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { DeploymentRecord } from '../etcd/index.ts';

export type MetricsSources = {
  /** Whether this daemon leads now. */
  isLeader: () => boolean;
  /** Ready instances per app, as the service registry lists them. */
  readyInstances: () => Promise<Record<string, number>>;
  /** How long ago each app was last compared with its declaration, seconds. */
  reconcileLag?: () => Record<string, number>;
};

/** Rollouts take seconds to tens of minutes. */
const ROLLOUT_BUCKETS = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800];
/** API answers take milliseconds; a long poll (`?wait=`) is not counted here. */
const API_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/**
 * glint's Prometheus metrics in one registry of their own (prom-client's global one is left
 * alone, so tests and several daemons in one process do not share counters). Values come from
 * the rollout engine's events and the API's answers as they happen, and from `sources` when
 * scraped.
 */
export class GlintMetrics {
  readonly registry = new Registry();
  readonly #deployments: Counter<'app' | 'kind' | 'result'>;
  readonly #rolloutSeconds: Histogram<'app' | 'kind' | 'result'>;
  readonly #apiSeconds: Histogram<'method' | 'route' | 'status'>;
  readonly #reconcileSeconds: Histogram;

  constructor(sources: MetricsSources) {
    collectDefaultMetrics({ register: this.registry, prefix: 'glint_' });
    this.#deployments = new Counter({
      name: 'glint_deployments_total',
      help: 'Deployments that ended, by app, kind (deploy, rotate, rollback, scale, heal, config) and result (their final state).',
      labelNames: ['app', 'kind', 'result'],
      registers: [this.registry],
    });
    this.#rolloutSeconds = new Histogram({
      name: 'glint_rollout_duration_seconds',
      help: 'Wall time of deployments that ended, from creation to their final state.',
      labelNames: ['app', 'kind', 'result'],
      buckets: ROLLOUT_BUCKETS,
      registers: [this.registry],
    });
    this.#apiSeconds = new Histogram({
      name: 'glint_api_request_duration_seconds',
      help: 'Time to answer an API request, by method, route pattern and status (long polls excluded).',
      labelNames: ['method', 'route', 'status'],
      buckets: API_BUCKETS,
      registers: [this.registry],
    });
    this.#reconcileSeconds = new Histogram({
      name: 'glint_reconcile_pass_seconds',
      help: 'Time of one reconcile pass (list every engine, read etcd, decide, start heals).',
      buckets: API_BUCKETS,
      registers: [this.registry],
    });
    new Gauge({
      name: 'glint_leader',
      help: '1 while this daemon leads (runs deployments), else 0.',
      registers: [this.registry],
      collect() {
        this.set(sources.isLeader() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'glint_instances_ready',
      help: 'Ready instances per app (in rotation and registered in etcd).',
      labelNames: ['app'],
      registers: [this.registry],
      async collect() {
        this.reset();
        const ready = await sources.readyInstances().catch(() => ({}));
        for (const [app, n] of Object.entries(ready)) this.set({ app }, n);
      },
    });
    new Gauge({
      name: 'glint_reconcile_lag_seconds',
      help: 'Seconds since each app was last compared with its declaration.',
      labelNames: ['app'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [app, s] of Object.entries(sources.reconcileLag?.() ?? {})) this.set({ app }, s);
      },
    });
  }

  /** A deployment reached its final state. */
  deploymentEnded(record: DeploymentRecord): void {
    const labels = { app: record.app, kind: record.kind, result: record.state };
    this.#deployments.inc(labels);
    const ended = Date.parse(record.finishedAt ?? record.updatedAt);
    const seconds = (ended - Date.parse(record.createdAt)) / 1000;
    if (Number.isFinite(seconds) && seconds >= 0) this.#rolloutSeconds.observe(labels, seconds);
  }

  reconcilePass(seconds: number): void {
    this.#reconcileSeconds.observe(seconds);
  }

  apiAnswered(method: string, route: string, status: number, seconds: number): void {
    this.#apiSeconds.observe({ method, route, status: String(status) }, seconds);
  }

  /** The text exposition format, and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
