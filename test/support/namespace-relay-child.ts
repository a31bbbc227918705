import { connect } from 'node:net';
import { startRelay } from './connection-relay.ts';

/**
 * Run inside a test network namespace (under `nsenter --net`): relays the namespace's own
 * 127.0.0.1:<listenPort> to <targetHost>:<targetPort> across the veth. Prints `listening` once
 * it accepts and the target does too, and ends when its stdin closes, so it never outlives the test process that
 * started it.
 */
const { listenPort, targetHost, targetPort } = JSON.parse(process.argv[2] ?? '{}') as {
  listenPort: number;
  targetHost: string;
  targetPort: number;
};
const relay = await startRelay({ host: targetHost, port: targetPort }, { port: listenPort });
// One connection across the link first, so a target nothing serves fails the start, not a pull.
await new Promise<void>((resolve, reject) => {
  const probe = connect(targetPort, targetHost, () => {
    probe.destroy();
    resolve();
  });
  probe.once('error', (err) =>
    reject(new Error(`${targetHost}:${targetPort} does not accept: ${err.message}`)),
  );
});
process.stdout.write('listening\n');
process.stdin.on('close', () => {
  void relay.close().finally(() => process.exit(0));
});
process.stdin.resume();
