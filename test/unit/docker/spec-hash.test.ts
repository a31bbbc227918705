import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, computeSpecHash, type InstanceSpec } from '../../../src/docker/index.ts';
import { DIGEST_B, specFixture } from './spec-fixture.ts';

type Change = { name: string; change: (s: InstanceSpec) => InstanceSpec };

const changes: Change[] = [
  { name: 'image digest', change: (s) => ({ ...s, image: { ...s.image, digest: DIGEST_B } }) },
  { name: 'an env value', change: (s) => ({ ...s, env: { ...s.env, GREETING: 'hello' } }) },
  { name: 'a new env name', change: (s) => ({ ...s, env: { ...s.env, EXTRA: '' } }) },
  { name: 'container port', change: (s) => ({ ...s, containerPort: 9090 }) },
  {
    name: 'memory limit',
    change: (s) => ({ ...s, resources: { ...s.resources, memoryBytes: 256 * 1024 * 1024 } }),
  },
  {
    name: 'cpu limit removed',
    change: (s) => ({ ...s, resources: { memoryBytes: s.resources.memoryBytes } }),
  },
  {
    name: 'health path',
    change: (s) => ({ ...s, health: { ...s.health, path: '/ready' } as InstanceSpec['health'] }),
  },
  { name: 'health threshold', change: (s) => ({ ...s, health: { ...s.health, healthyThreshold: 3 } }) },
  { name: 'an extra label', change: (s) => ({ ...s, labels: { ...s.labels, tier: 'front' } }) },
  { name: 'stop timeout', change: (s) => ({ ...s, stopTimeoutMs: 20_000 }) },
  { name: 'app name', change: (s) => ({ ...s, app: 'api' }) },
  { name: 'declared security', change: (s) => ({ ...s, security: { user: '1000' } }) },
  {
    name: 'an added capability',
    change: (s) => ({ ...s, security: { capAdd: ['NET_BIND_SERVICE'] } }),
  },
  { name: "the host's network", change: (s) => ({ ...s, network: 'host', hostPort: 20001 }) },
];

const neutral: Change[] = [
  { name: 'deployment id', change: (s) => ({ ...s, deploymentId: 'd-2' }) },
  // Placement: the same release on another engine is the same revision.
  { name: 'host ip', change: (s) => ({ ...s, hostIp: '10.0.0.5' }) },
  { name: 'service address', change: (s) => ({ ...s, serviceAddress: '172.18.0.1' }) },
  { name: 'instance id', change: (s) => ({ ...s, instance: 'zzz999' }) },
  { name: 'address mode', change: (s) => ({ ...s, addressMode: 'container' }) },
  { name: 'config revision', change: (s) => ({ ...s, config: { fingerprint: 'f', revision: 42 } }) },
  { name: 'key order of env', change: (s) => ({ ...s, env: { GREETING: 'hi', PORT: '8080' } }) },
];

describe('computeSpecHash', () => {
  const base = specFixture();

  it('gives the same hash for the same inputs', () => {
    expect(computeSpecHash(specFixture())).toBe(computeSpecHash(specFixture()));
    expect(computeSpecHash(base)).toMatch(/^[0-9a-f]{32}$/);
  });

  it.each(changes)('changes when the $name changes', ({ change }) => {
    expect(computeSpecHash(change(base))).not.toBe(computeSpecHash(base));
  });

  it.each(neutral)('does not change with the $name', ({ change }) => {
    expect(computeSpecHash(change(base))).toBe(computeSpecHash(base));
  });

  it('differs for any two different env maps (property)', () => {
    const env = fc.dictionary(fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,6}$/), fc.string({ maxLength: 8 }), {
      maxKeys: 5,
    });
    fc.assert(
      fc.property(env, env, (a, b) => {
        const same = canonicalJson(a) === canonicalJson(b);
        const hashA = computeSpecHash({ ...base, env: a });
        const hashB = computeSpecHash({ ...base, env: b });
        return same ? hashA === hashB : hashA !== hashB;
      }),
    );
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: undefined }], c: null } })).toBe(
      '{"a":{"c":null,"d":[2,{"z":1}]},"b":1}',
    );
  });
});
