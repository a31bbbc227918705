/**
 * A stand-in daemon for etcd integration tests and the failover benchmark, run as its own
 * process so a test can SIGKILL or SIGSTOP it. Config comes as one JSON argument; every
 * event goes to stdout as one JSON line.
 *
 * mode "register": registers one service instance under a lease and stays up.
 * mode "elect": campaigns for leadership; with `zombieWrites`, it keeps writing with the last
 * guard it was given, even after it was deposed, so a test can see etcd refuse those writes.
 */
import { connectEtcd } from '../../src/etcd/etcd-client.ts';
import { LeaderElection } from '../../src/etcd/leader-election.ts';
import { guardedTxn, type LeaderGuard } from '../../src/etcd/leader-guard.ts';
import { EtcdServiceRegistry } from '../../src/etcd/service-registry.ts';

type ChildConfig = {
  mode: 'register' | 'elect';
  endpoint: string;
  prefix: string;
  id: string;
  ttlSeconds: number;
  app?: string;
  port?: number;
  zombieWrites?: boolean;
};

const config = JSON.parse(process.argv[2] ?? '{}') as ChildConfig;
const say = (event: string, fields: Record<string, unknown> = {}) =>
  process.stdout.write(`${JSON.stringify({ event, id: config.id, at: Date.now(), ...fields })}\n`);

const client = await connectEtcd({ endpoints: [config.endpoint], prefix: config.prefix });

if (config.mode === 'register') {
  const registry = new EtcdServiceRegistry(client, { ttlSeconds: config.ttlSeconds });
  await registry.register({
    app: config.app ?? 'svc',
    instance: config.id,
    host: '127.0.0.1',
    port: config.port ?? 8080,
    version: '1.0.0',
    digest: 'sha256:test',
    startedAt: new Date().toISOString(),
  });
  say('registered', { leaseId: await registry.leaseId() });
} else {
  const election = new LeaderElection(client, {
    id: config.id,
    address: `http://127.0.0.1:${config.port ?? 0}`,
    ttlSeconds: config.ttlSeconds,
    retryDelayMs: 200,
  });
  let lastGuard: LeaderGuard | undefined;
  election.on('elected', (guard) => {
    lastGuard = guard;
    say('elected', { createRevision: guard.createRevision });
  });
  election.on('deposed', (reason) => say('deposed', { reason }));
  election.start();
  if (config.zombieWrites) {
    let seq = 0;
    setInterval(() => {
      if (!lastGuard) return;
      const n = ++seq;
      const key = `${client.keys.prefix}/state/apps/zombie-probe`;
      guardedTxn(
        client,
        lastGuard,
        { compare: [], success: [{ type: 'put', key, value: `${config.id}:${n}` }] },
        'writing',
      )
        .then((res) => say('write', { ok: true, seq: n, revision: res.revision }))
        .catch((err) => say('write', { ok: false, seq: n, code: (err as { code?: string }).code }));
    }, 100);
  }
}
say('ready');
