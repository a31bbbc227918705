// Runs autocannon in its own process, so the latency it measures is not inflated by the
// test's own event loop. Options arrive as JSON in argv; a 'stop' message ends the run early.
import { createRequire } from 'node:module';

const autocannon = createRequire(import.meta.url)('autocannon');
const opts = JSON.parse(process.argv[2] ?? '{}');
const instance = autocannon(opts, (err, result) => {
  if (err) process.send?.({ error: String(err) });
  else process.send?.({ result });
  process.disconnect?.();
});
process.on('message', (message) => {
  if (message === 'stop') instance.stop();
});
