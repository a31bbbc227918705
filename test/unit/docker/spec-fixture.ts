import type { InstanceSpec } from '../../../src/docker/index.ts';

export const DIGEST_A = `sha256:${'a'.repeat(64)}`;
export const DIGEST_B = `sha256:${'b'.repeat(64)}`;

export function specFixture(overrides: Partial<InstanceSpec> = {}): InstanceSpec {
  return {
    app: 'web',
    instance: 'a1b2c3',
    image: {
      repository: '127.0.0.1:5000/demo-app',
      ref: `127.0.0.1:5000/demo-app@${DIGEST_A}`,
      digest: DIGEST_A,
      version: '1.2.0',
      revision: 'abc123',
      created: '2026-01-01T00:00:00Z',
    },
    env: { PORT: '8080', GREETING: 'hi' },
    containerPort: 8080,
    hostIp: '127.0.0.1',
    serviceAddress: '172.17.0.1',
    resources: { memoryBytes: 128 * 1024 * 1024, nanoCpus: 500_000_000 },
    health: {
      type: 'http',
      path: '/healthz',
      expectStatus: '200-399',
      interval: 1000,
      timeout: 1000,
      healthyThreshold: 2,
      unhealthyThreshold: 3,
      gracePeriod: 0,
    },
    labels: { team: 'web' },
    stopTimeoutMs: 10_000,
    deploymentId: 'd-1',
    ...overrides,
  };
}
