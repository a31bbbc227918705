/**
 * The floor of the API latency figures: the same load process and mix as bench/api-latency.ts
 * (open loop, 32 connections, a share of the requests on new connections) against a server
 * that does nothing but send a fixed JSON body, in a process of its own. What this prints is
 * what the machine and the load process cost; the API's own figures can't be better. Then the
 * same rate and mix from hey (bench/support/hey-load.ts) and from h2load
 * (bench/support/h2load-load.ts), the compiled instruments.
 *
 *   npx tsx bench/load-floor.ts [--rate 1000] [--seconds 10] [--bytes 40000] [--new-share 0.5]
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { startLoad } from '../test/support/http-load.ts';
import { benchArg } from './support/bench-run.ts';
import { describeH2loadMix, runH2loadMix } from './support/h2load-load.ts';
import { describeHeyMix, runHeyMix } from './support/hey-load.ts';

const RATE = Number(benchArg('rate', '1000'));
const SECONDS = Number(benchArg('seconds', '10'));
const BYTES = Number(benchArg('bytes', '40000'));
const NEW_SHARE = Number(benchArg('new-share', '0.5'));

// Answers every request with the same body and prints its port; ends with its parent's stdin.
const SERVER = `
const body = JSON.stringify({ pad: 'x'.repeat(${BYTES}) });
const server = require('node:http').createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(body));
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
process.stdin.on('end', () => process.exit(0)).resume();
`;

async function main() {
  const server = spawn(process.execPath, ['-e', SERVER], { stdio: ['pipe', 'pipe', 'inherit'] });
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
    console.log(
      `a server that only sends ${BYTES} bytes, ${RATE} requests/s for ${SECONDS} s, 32 connections, ` +
        `${Math.round(NEW_SHARE * 100)} % on new connections: ${s.ratePerSec}/s answered, p50 ${s.p50Ms} ms, ` +
        `p99 ${s.p99Ms} ms, max ${s.maxMs} ms; ${s.requests} requests, ${s.ok2xx} 2xx; ` +
        `load process's own loop lag p99 ${s.loopDelayP99Ms} ms, max ${s.loopDelayMaxMs} ms`,
    );
    if (NEW_SHARE > 0 && NEW_SHARE < 1) {
      const mix = await runHeyMix({ url, rate: RATE, seconds: SECONDS, newShare: NEW_SHARE });
      console.log(`the same from hey: ${describeHeyMix(mix, RATE).line}`);
      const h2 = await runH2loadMix({ url, rate: RATE, seconds: SECONDS, newShare: NEW_SHARE });
      console.log(`the same from h2load: ${describeH2loadMix(h2, RATE).line}`);
    }
    console.log(
      `command: npx tsx bench/load-floor.ts --rate ${RATE} --seconds ${SECONDS} --bytes ${BYTES} --new-share ${NEW_SHARE}`,
    );
  } finally {
    server.stdin?.end();
    await once(server, 'exit');
  }
}

await main();
