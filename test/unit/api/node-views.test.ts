import { describe, expect, it } from 'vitest';
import { nodeViews } from '../../../src/api/node-views.ts';
import { nodeTable } from '../../../src/cli/remote-commands.ts';

const endpoints = [
  { name: 'a', hostIp: '127.0.0.1', labels: { zone: 'x' }, capacity: 10 },
  { name: 'b', hostIp: '10.77.0.2' },
  { name: 'c', hostIp: '127.0.0.1', addressMode: 'container' as const },
];
const statuses = [
  { node: 'a', state: 'up' as const, since: 0, lastContact: 60_000 },
  { node: 'b', state: 'down' as const, since: 30_000, lastContact: 1_000, lastError: 'connect ECONNREFUSED' },
];

describe('nodeViews', () => {
  const views = nodeViews(
    endpoints,
    statuses,
    new Map([
      [
        'a',
        [
          { app: 'web', running: true },
          { app: 'web', running: true },
          { app: 'api', running: true },
          { app: 'web', running: false },
        ],
      ],
      ['b', undefined],
    ]),
  );

  it('counts running instances per app on a listed engine', () => {
    expect(views[0]).toEqual({
      name: 'a',
      state: 'up',
      since: '1970-01-01T00:00:00.000Z',
      lastContact: '1970-01-01T00:01:00.000Z',
      hostIp: '127.0.0.1',
      addressMode: 'host',
      labels: { zone: 'x' },
      capacity: 10,
      instances: 3,
      apps: { web: 2, api: 1 },
    });
  });

  it('claims no count for an engine it could not list, and says why it is down', () => {
    expect(views[1]).toMatchObject({
      state: 'down',
      lastError: 'connect ECONNREFUSED',
      instances: null,
      apps: {},
      capacity: null,
    });
  });

  it('prints as a table with the reason beside a down engine', () => {
    const text = nodeTable(views);
    expect(text).toMatch(/^NODE\s+STATE\s+ADDRESS\s+INSTANCES\s+LABELS\s+LAST CONTACT/);
    expect(text).toMatch(/a\s+up\s+127\.0\.0\.1\s+3\/10\s+zone=x/);
    expect(text).toMatch(/b\s+down \(connect ECONNREFUSED\)\s+10\.77\.0\.2\s+\?\s+-/);
    // Instances reached at their container IPs: the host IP is not where they are.
    expect(views[2]).toMatchObject({ name: 'c', addressMode: 'container' });
    expect(text).toMatch(/c\s+unreachable\s+container IPs\s+\?\s+-/);
  });
});
