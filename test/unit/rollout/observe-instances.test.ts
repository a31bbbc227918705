import { describe, expect, it } from 'vitest';
import type { RuntimeInstance } from '../../../src/rollout/index.ts';
import { observeInstances } from '../../../src/rollout/observe-instances.ts';

const container = (over: Partial<RuntimeInstance> = {}): RuntimeInstance => ({
  app: 'web',
  instance: 'a',
  node: 'local',
  containerId: 'c-a',
  specHash: 's',
  version: '1.0.0',
  createdAt: 1,
  running: true,
  host: '127.0.0.1',
  port: 1,
  ...over,
});
const base = {
  servers: [],
  health: () => undefined,
  lbPassedAt: new Map(),
  steps: [],
  inFlight: new Set<string>(),
  pendingStarts: [],
  now: 10,
};

describe('observeInstances', () => {
  it.each([
    {
      name: 'neither the record nor this process started it',
      steps: [],
      launched: undefined,
      inherited: true,
    },
    {
      name: 'the record has its start step',
      steps: [
        {
          seq: 1,
          kind: 'start' as const,
          state: 'succeeded' as const,
          instance: 'a',
          node: 'local',
          attempt: 1,
          startedAt: 'x',
        },
      ],
      launched: undefined,
      inherited: false,
    },
    {
      name: 'this process launched it, its step not yet stored',
      steps: [],
      launched: new Set(['a']),
      inherited: false,
    },
  ])('an instance is inherited when $name → $inherited', ({ steps, launched, inherited }) => {
    const [o] = observeInstances({
      ...base,
      steps,
      ...(launched ? { launched } : {}),
      containers: [container({ running: false, exit: 'exited with code 3' })],
    });
    expect(o?.inherited).toBe(inherited);
  });

  it('a container whose start is in flight is starting, not crashed', () => {
    const [o] = observeInstances({
      ...base,
      containers: [container({ running: false, exit: 'container is created' })],
      pendingStarts: [{ instance: 'a', node: 'local', specHash: 's', at: 5 }],
    });
    expect(o).toMatchObject({ running: true, busy: false });
  });

  it('a stopped container with no start in flight is reported with its exit', () => {
    const [o] = observeInstances({
      ...base,
      containers: [container({ running: false, exit: 'exited with code 3' })],
    });
    expect(o).toMatchObject({ running: false, failure: 'exited with code 3' });
  });

  it('healthy only once both the probe and HAProxy passed, at the later of the two', () => {
    const [o] = observeInstances({
      ...base,
      containers: [container()],
      servers: [{ name: 'a', state: 'drain', checkPassed: true, checkStatus: 'L7OK', sessions: 0 }],
      health: () => ({ watchedSince: 2, healthyAt: 4 }),
      lbPassedAt: new Map([['a', 7]]),
    });
    expect(o).toMatchObject({ healthyAt: 7, lb: 'staged' });
  });

  it('retiring comes from the record, not from HAProxy', () => {
    const [o] = observeInstances({
      ...base,
      containers: [container()],
      servers: [{ name: 'a', state: 'drain', checkPassed: true, checkStatus: 'L7OK', sessions: 1 }],
      steps: [
        {
          seq: 1,
          kind: 'retire',
          state: 'running',
          instance: 'a',
          node: 'local',
          attempt: 1,
          startedAt: 'x',
        },
      ],
    });
    expect(o?.retiring).toBe(true);
  });
});
