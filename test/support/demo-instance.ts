import { randomUUID } from 'node:crypto';
import type { InstanceSpec, ResolvedImage } from '../../src/docker/index.ts';
import type { HealthCheck } from '../../src/health/index.ts';
import { testLabels } from './labels.ts';

export const DEMO_HEALTH: HealthCheck = {
  type: 'http',
  path: '/healthz',
  expectStatus: '200-399',
  interval: 200,
  timeout: 1_000,
  healthyThreshold: 1,
  unhealthyThreshold: 2,
  gracePeriod: 0,
};

/** An instance spec of the demo app carrying the suite's test labels, so teardown finds it. */
export function demoInstanceSpec(
  suite: string,
  image: ResolvedImage,
  overrides: Partial<InstanceSpec> = {},
): InstanceSpec {
  return {
    app: 'demo',
    instance: randomUUID().slice(0, 8),
    image,
    env: {},
    containerPort: 8080,
    hostIp: '127.0.0.1',
    serviceAddress: '172.17.0.1',
    resources: { memoryBytes: 128 * 1024 * 1024, nanoCpus: 500_000_000 },
    health: DEMO_HEALTH,
    labels: testLabels(suite),
    stopTimeoutMs: 5_000,
    ...overrides,
  };
}
