import { randomUUID } from 'node:crypto';
import type { AddressMode } from '../../src/docker/index.ts';

/**
 * What every bench against real containers sets first: a run id its containers are labelled
 * (and removed) by, and testcontainers without its reaper, reaching containers on loopback.
 */
export function prepareBenchRun(): void {
  process.env.GLINT_TEST_RUN ??= `bench-${randomUUID().slice(0, 8)}`;
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  process.env.TESTCONTAINERS_HOST_OVERRIDE = '127.0.0.1';
}

/** The value after `--name` on the command line, or `fallback`. */
export function benchArg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

/** `--address-mode`: how glint's HAProxy reaches instances (default a published port). */
export function addressModeArg(): AddressMode {
  const mode = benchArg('address-mode', 'host');
  if (mode !== 'host' && mode !== 'container')
    throw new Error(`--address-mode is host or container, not ${mode}`);
  return mode;
}

/** `--network`: the app's network, `bridge` (its own namespace, the default) or the host's. */
export function networkArg(): 'bridge' | 'host' {
  const network = benchArg('network', 'bridge');
  if (network !== 'bridge' && network !== 'host')
    throw new Error(`--network is bridge or host, not ${network}`);
  return network;
}
