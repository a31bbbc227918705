/**
 * Leader failover time: two daemon processes campaign on a real etcd, the leader is killed
 * with SIGKILL, and we time kill → the other one reports `elected`. Also the time for a lease
 * to drop a killed daemon's service entry. Medians over several runs, per lease TTL.
 *
 *   npx tsx bench/etcd-failover.ts [--runs 5] [--ttl 2,5]
 */
import { randomUUID } from 'node:crypto';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const RUNS = Number(arg('--runs', '5'));
const TTLS = arg('--ttl', '2,5').split(',').map(Number);
const SUITE = 'bench-etcd-failover';

process.env.GLINT_TEST_RUN ??= `bench-${randomUUID().slice(0, 8)}`;
process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
process.env.TESTCONTAINERS_HOST_OVERRIDE = '127.0.0.1';

const { spawnTsxChild } = await import('../test/support/child-process.ts');
const { startEtcd } = await import('../test/support/etcd-container.ts');
const { removeTestContainers } = await import('../test/support/cleanup.ts');
const { connectEtcd } = await import('../src/etcd/etcd-client.ts');
const { waitFor } = await import('../test/support/wait-for.ts');

type Child = ReturnType<typeof spawnTsxChild>;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};

async function failoverOnce(endpoint: string, ttl: number, run: number): Promise<number> {
  const prefix = `/bench-failover-${ttl}-${run}`;
  const spawn = (id: string) =>
    spawnTsxChild('./etcd-daemon-child.ts', { mode: 'elect', endpoint, prefix, id, ttlSeconds: ttl });
  const [a, b] = [spawn('a'), spawn('b')];
  try {
    const leader = await waitFor(
      () =>
        a.events.some((e) => e.event === 'elected')
          ? a
          : b.events.some((e) => e.event === 'elected')
            ? b
            : undefined,
      { timeoutMs: 30_000, what: 'first leader' },
    );
    const follower: Child = leader === a ? b : a;
    await follower.waitForEvent((e) => e.event === 'ready');
    const killedAt = Date.now();
    leader.kill('SIGKILL');
    const elected = await follower.waitForEvent((e) => e.event === 'elected', { timeoutMs: ttl * 3000 });
    return elected.at - killedAt;
  } finally {
    a.kill('SIGKILL');
    b.kill('SIGKILL');
    await Promise.all([a.exited, b.exited]);
  }
}

async function registrationExpiryOnce(endpoint: string, ttl: number, run: number): Promise<number> {
  const prefix = `/bench-expiry-${ttl}-${run}`;
  const child = spawnTsxChild('./etcd-daemon-child.ts', {
    mode: 'register',
    endpoint,
    prefix,
    id: 'i-1',
    ttlSeconds: ttl,
  });
  const client = await connectEtcd({ endpoints: [endpoint], prefix });
  try {
    await child.waitForEvent((e) => e.event === 'registered', { timeoutMs: 30_000 });
    const killedAt = Date.now();
    child.kill('SIGKILL');
    await waitFor(async () => ((await client.get(`${prefix}/services/svc/i-1`)) ? undefined : true), {
      timeoutMs: ttl * 3000,
      intervalMs: 20,
    });
    return Date.now() - killedAt;
  } finally {
    child.kill('SIGKILL');
    client.close();
  }
}

const etcd = await startEtcd(SUITE);
try {
  console.log(`# npx tsx bench/etcd-failover.ts --runs ${RUNS} --ttl ${TTLS.join(',')}`);
  console.log(
    `# etcd ${etcd.endpoint} (quay.io/coreos/etcd:v3.4.23), ${RUNS} runs per TTL, medians (min..max)`,
  );
  for (const ttl of TTLS) {
    const failover: number[] = [];
    const expiry: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      failover.push(await failoverOnce(etcd.endpoint, ttl, run));
      expiry.push(await registrationExpiryOnce(etcd.endpoint, ttl, run));
    }
    const fmt = (xs: number[]) => `${median(xs)} ms (${Math.min(...xs)}..${Math.max(...xs)})`;
    console.log(`lease TTL ${ttl} s: leader failover after kill -9 ${fmt(failover)}`);
    console.log(`lease TTL ${ttl} s: killed daemon's service entry gone after ${fmt(expiry)}`);
  }
} finally {
  await removeTestContainers({ runId: process.env.GLINT_TEST_RUN, suite: SUITE });
}
