/**
 * The floors of the API latency figures: the same loads as bench/api-latency.ts against servers
 * that do nothing but send a fixed JSON body, each in a process of its own. First a bare
 * `node:http` server: what the machine and each load generator cost. Then an Express 5 app with
 * one route and glint's settings (no ETag): what the framework the API is built on costs before
 * any of glint's work. The API's own figures can't be better than the second.
 *
 * Each server gets the bench's own Node load process (open loop, 32 connections, a share of the
 * requests on new connections), then the same rate and mix from hey
 * (bench/support/hey-load.ts) and from h2load (bench/support/h2load-load.ts). Each server's CPU
 * time per answer is read from /proc over the h2load run.
 *
 *   npx tsx bench/load-floor.ts [--rate 1000] [--seconds 10] [--bytes 40000] [--new-share 0.5]
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { startLoad } from '../test/support/http-load.ts';
import { benchArg } from './support/bench-run.ts';
import { describeH2loadMix, runH2loadMix } from './support/h2load-load.ts';
import { describeHeyMix, runHeyMix } from './support/hey-load.ts';

const RATE = Number(benchArg('rate', '1000'));
const SECONDS = Number(benchArg('seconds', '10'));
const BYTES = Number(benchArg('bytes', '40000'));
const NEW_SHARE = Number(benchArg('new-share', '0.5'));

// Each answers every request with the same body and prints its port; ends with its parent's stdin.
const BODY = `const body = Buffer.from(JSON.stringify({ pad: 'x'.repeat(${BYTES}) }));`;
const LISTEN = `
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
process.stdin.on('end', () => process.exit(0)).resume();`;
const SERVERS = {
  'a bare node:http server': `${BODY}
const server = require('node:http').createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(body));
});${LISTEN}`,
  'an Express 5 app with one route': `${BODY}
const app = require('express')();
app.disable('x-powered-by');
app.set('etag', false);
app.get('/', (_req, res) => res.type('json').send(body));
const server = require('node:http').createServer(app);${LISTEN}`,
};

/** User plus system CPU time of a process so far, in ms (Linux: /proc/<pid>/stat, 100 ticks/s). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function measure(name: string, source: string) {
  const server = spawn(process.execPath, ['-e', source], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const [line] = (await once(server.stdout!, 'data')) as [Buffer];
    const url = `http://127.0.0.1:${Number(line.toString().trim())}/`;
    await startLoad({ url, connections: 32, rate: RATE, maxDurationSec: 1 }).result;
    const s = await startLoad({
      url,
      connections: 32,
      rate: RATE,
      maxDurationSec: SECONDS,
      newConnectionShare: NEW_SHARE,
      timeoutSec: 10,
    }).result;
    console.log(`${name}:`);
    console.log(
      `  from the Node load process: ${s.ratePerSec}/s answered, p50 ${s.p50Ms} ms, ` +
        `p99 ${s.p99Ms} ms, max ${s.maxMs} ms; ${s.requests} requests, ${s.ok2xx} 2xx; ` +
        `load process's own loop lag p99 ${s.loopDelayP99Ms} ms, max ${s.loopDelayMaxMs} ms`,
    );
    if (NEW_SHARE > 0 && NEW_SHARE < 1) {
      const mix = await runHeyMix({ url, rate: RATE, seconds: SECONDS, newShare: NEW_SHARE });
      console.log(`  from hey: ${describeHeyMix(mix, RATE).line}`);
      const before = cpuMs(server.pid!);
      const h2 = await runH2loadMix({ url, rate: RATE, seconds: SECONDS, newShare: NEW_SHARE });
      const answers = h2.keepAlive.summary.requests + h2.fresh.summary.requests;
      console.log(
        `  from h2load: ${describeH2loadMix(h2, RATE).line}; ` +
          `server CPU ${((cpuMs(server.pid!) - before) / answers).toFixed(2)} ms per answer`,
      );
    }
  } finally {
    server.stdin?.end();
    await once(server, 'exit');
  }
}

console.log(
  `${RATE} requests/s for ${SECONDS} s, each answer ${BYTES} bytes, ${Math.round(NEW_SHARE * 100)} % on new connections`,
);
for (const [name, source] of Object.entries(SERVERS)) await measure(name, source);
console.log(
  `command: npx tsx bench/load-floor.ts --rate ${RATE} --seconds ${SECONDS} --bytes ${BYTES} --new-share ${NEW_SHARE}`,
);
