import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait-for.ts';

export type ChildEvent = { event: string; id: string; at: number; [field: string]: unknown };

export type TsxChild = {
  pid: number;
  events: ChildEvent[];
  stderr: () => string;
  /** Resolves with the first event (after `since` events) matching `match`. */
  waitForEvent(
    match: (e: ChildEvent) => boolean,
    opts?: { timeoutMs?: number; since?: number },
  ): Promise<ChildEvent>;
  kill(signal: NodeJS.Signals): void;
  exited: Promise<number | null>;
};

/** Runs a TypeScript file under tsx as a child process that reports JSON lines on stdout. */
export function spawnTsxChild(relativeScript: string, arg: unknown): TsxChild {
  const script = fileURLToPath(new URL(relativeScript, import.meta.url));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(arg)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: ChildEvent[] = [];
  let buffer = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) events.push(JSON.parse(line) as ChildEvent);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    pid: child.pid ?? -1,
    events,
    stderr: () => err,
    waitForEvent: (match, opts = {}) =>
      waitFor(() => events.slice(opts.since ?? 0).find(match), {
        timeoutMs: opts.timeoutMs ?? 20_000,
        intervalMs: 20,
        what: `child ${child.pid} event (stderr: ${err.slice(-300)})`,
      }),
    kill: (signal) => {
      if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
      try {
        process.kill(child.pid, signal);
      } catch {
        // Already gone between the check and the signal.
      }
    },
    exited,
  };
}
