/**
 * HAProxy membership and reload costs on a real HAProxy 2.6 (container, host network,
 * master-worker), through glint's load balancer:
 *   - membership change through the runtime API (add to ready, retire) vs through a reload,
 *   - time from `add server` to HAProxy's own check reporting L7OK, at two check intervals,
 *   - reload time (validate with haproxy -c, save server state, reload, confirm new worker).
 *
 *   npx tsx bench/lb-membership.ts [--runs 15]
 */

import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_TIMEOUTS, HaproxyLoadBalancer, type LbApp, LocalBinaryValidator } from '../src/lb/index.ts';
import { hasPassedCheck } from '../src/lb/live-servers.ts';
import { pollServer } from '../src/lb/server-waits.ts';
import { removeTestContainers } from '../test/support/cleanup.ts';
import { freePort } from '../test/support/free-port.ts';
import { startHaproxy } from '../test/support/haproxy-container.ts';

const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 15;
const SUITE = 'bench-lb-membership';

process.env.GLINT_TEST_RUN ??= `bench-${randomUUID().slice(0, 8)}`;
process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
process.env.TESTCONTAINERS_HOST_OVERRIDE = '127.0.0.1';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const ms = (xs: number[]) =>
  `median ${median(xs).toFixed(1)} ms (min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)}, n=${xs.length})`;

async function backend(): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => res.end(req.url === '/healthz' ? 'ok' : 'hello'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

const app = (name: string, port: number, intervalMs: number): LbApp => ({
  name,
  frontend: { bind: `127.0.0.1:${port}` },
  check: { type: 'http' as const, path: '/healthz', intervalMs, rise: 2, fall: 2, timeoutMs: 1_000 },
  drainTimeoutMs: 5_000,
  servers: [],
});

async function main() {
  const runDir = mkdtempSync(join(tmpdir(), 'glint-bench-lb-'));
  const lb = new HaproxyLoadBalancer({
    model: {
      runDir,
      hardStopAfterMs: 30_000,
      timeouts: DEFAULT_TIMEOUTS,
      apps: [app('slow', await freePort(), 1_000), app('fast', await freePort(), 250)],
    },
    validator: new LocalBinaryValidator(),
    pollIntervalMs: 10,
  });
  await lb.writeInitialConfig();
  await startHaproxy(SUITE, runDir);
  const b = await backend();
  const figures: Record<string, number[]> = {};
  const record = (key: string, value: number) => {
    figures[key] ??= [];
    figures[key].push(value);
  };

  for (let i = 0; i < RUNS; i++) {
    for (const [appName, label] of [
      ['slow', 'inter 1s'],
      ['fast', 'inter 250ms'],
    ] as const) {
      const name = `${appName}-${i}`;
      const t0 = performance.now();
      const checked = lb
        .addInstance(appName, { name, address: '127.0.0.1', port: b.port })
        .then(() => performance.now());
      // add server → L7OK is measured from the moment the server exists in HAProxy.
      const wait = await pollServer(lb.runtime, `be_${appName}`, name, (row) => row.status !== '', {
        timeoutMs: 5_000,
        pollIntervalMs: 2,
      });
      const added = performance.now();
      const l7 = await pollServer(
        lb.runtime,
        `be_${appName}`,
        name,
        hasPassedCheck(lb.model.apps.find((a) => a.name === appName)!.check),
        {
          timeoutMs: 10_000,
          pollIntervalMs: 5,
        },
      );
      if (!wait.met || !l7.met) throw new Error(`server ${name} did not come up`);
      record(`add server → L7OK (${label})`, performance.now() - added);
      record(`runtime add to ready (${label})`, (await checked) - t0);
      const r0 = performance.now();
      await lb.retireServer(appName, name, { drainTimeoutMs: 5_000 });
      record('runtime retire (drain, no sessions → maint → del)', performance.now() - r0);
    }
    const v0 = performance.now();
    await new LocalBinaryValidator().validate(`${runDir}/haproxy.cfg`);
    record('haproxy -c alone', performance.now() - v0);
    const s0 = performance.now();
    const outcome = await lb.applyStructure({
      ...lb.model,
      timeouts: { ...DEFAULT_TIMEOUTS, serverMs: 31_000 + i * 100 },
    });
    if (!outcome.reloaded) throw new Error('structural change did not reload');
    record('reload (render, haproxy -c, save state, reload, new worker confirmed)', performance.now() - s0);
  }
  b.server.close();
  return figures;
}

try {
  const figures = await main();
  const haproxyVersion = execFileSync('haproxy', ['-v']).toString().split('\n')[0];
  console.log(`\nHAProxy membership bench: ${RUNS} runs, ${cpus().length} cores, ${haproxyVersion}`);
  console.log(`command: npx tsx bench/lb-membership.ts${runsArg > 0 ? ` --runs ${RUNS}` : ''}`);
  for (const [key, values] of Object.entries(figures)) console.log(`  ${key.padEnd(74)} ${ms(values)}`);
  const runtime = median(figures['runtime add to ready (inter 250ms)'] ?? [0]);
  const reload = median(
    figures['reload (render, haproxy -c, save state, reload, new worker confirmed)'] ?? [0],
  );
  console.log(
    `  membership via runtime API is bounded by the health check (${runtime.toFixed(0)} ms at inter 250ms); a reload costs ${reload.toFixed(0)} ms, adds no check gate and leaves an old worker behind`,
  );
} finally {
  await removeTestContainers({ runId: process.env.GLINT_TEST_RUN, suite: SUITE });
}
