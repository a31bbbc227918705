import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { connectEtcd, describeDialFailure } from '../../../src/etcd/etcd-client.ts';

/** A loopback port nothing listens on: bound once to learn a free number, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('connectEtcd', () => {
  it('says the connection was refused, naming the endpoint and the fix, when nothing listens', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    // Refusals are retried until the dial timeout; the last one is what the user hears.
    const failure = await connectEtcd({ endpoints: [endpoint], dialTimeoutMs: 2_000 }).catch((e) => e);
    expect(failure).toMatchObject({ code: 'EtcdUnavailable' });
    expect(failure.message).toContain(endpoint);
    expect(failure.message).toMatch(/refused the connection/);
    expect(failure.message).toMatch(/start etcd/);
    expect(failure.message).not.toMatch(/did not answer within/);
  });
});

describe('describeDialFailure', () => {
  const endpoints = ['http://etcd.example:2379'];
  it.each([
    {
      name: 'a refused connection',
      detail: '14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED 127.0.0.1:1',
      want: /refused the connection/,
    },
    {
      name: 'a host name that does not resolve',
      detail: '14 UNAVAILABLE: Name resolution failed for target dns:etcd.example:2379',
      want: /host name does not resolve/,
    },
    {
      name: 'a deadline',
      detail: '4 DEADLINE_EXCEEDED: Deadline exceeded',
      want: /did not answer within 750 ms/,
    },
  ])('names $name', ({ detail, want }) => {
    const message = describeDialFailure(endpoints, 750, new Error(detail));
    expect(message).toMatch(want);
    expect(message).toContain('http://etcd.example:2379');
  });
});
