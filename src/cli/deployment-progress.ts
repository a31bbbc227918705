import { ExitCode } from './exit-codes.ts';

/** The parts of the API's deployment answer the CLI shows. */
export type DeploymentAnswer = {
  id: string;
  app: string;
  kind: string;
  state: string;
  from: { version: string } | null;
  to: { version: string };
  instances: number;
  progress: Record<string, number>;
  status: { phase: string; reason: string; message: string } | null;
  steps: { seq: number; kind: string; state: string; instance: string; node: string; message?: string }[];
  error: { reason: string; message: string; logs?: string[] } | null;
};

const TERMINAL = new Set(['succeeded', 'failed', 'rolled_back', 'cancelled']);

export const hasEnded = (d: DeploymentAnswer) => TERMINAL.has(d.state);

/** One line naming the deployment: `deploy 1.0.0 → 1.1.0 of web (d-1a2b), 3 instances`. */
export function describeDeployment(d: DeploymentAnswer): string {
  const move =
    d.from && d.from.version !== d.to.version ? `${d.from.version} → ${d.to.version}` : d.to.version;
  return `${d.kind} ${move} of ${d.app} (${d.id}), ${d.instances} instance${d.instances === 1 ? '' : 's'}`;
}

/**
 * What changed between two answers about one deployment, one line each: its state, then each
 * step that appeared or moved on. Pure: the CLI prints these when its output is not a terminal.
 */
export function changeLines(before: DeploymentAnswer | undefined, after: DeploymentAnswer): string[] {
  const lines: string[] = [];
  if (before?.state !== after.state)
    lines.push(`${after.id} ${before ? `${before.state} → ` : ''}${after.state}`);
  const seen = new Map((before?.steps ?? []).map((s) => [s.seq, s.state]));
  for (const s of after.steps) {
    if (seen.get(s.seq) === s.state) continue;
    const why = s.message ? `: ${s.message}` : '';
    lines.push(`  ${s.kind} ${s.instance} on ${s.node} ${s.state}${why}`);
  }
  if (before?.status?.message !== after.status?.message && after.status?.message && !hasEnded(after))
    lines.push(`  ${after.status.message}`);
  return lines;
}

/** `[#######-------------] 1/3 ready · start 4f2a1c running`, for a terminal's status line. */
export function progressBar(d: DeploymentAnswer, width = 20): string {
  const desired = Math.max(1, d.progress.desired ?? d.instances);
  const ready = Math.min(desired, d.progress.ready ?? 0);
  const filled = Math.round((ready / desired) * width);
  const current = [...d.steps].reverse().find((s) => s.state === 'running') ?? d.steps.at(-1);
  const step = current ? ` · ${current.kind} ${current.instance} ${current.state}` : '';
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${ready}/${desired} ready · ${d.state}${step}`;
}

/** How an ended deployment is reported, and the exit code it gives. */
export function outcome(d: DeploymentAnswer): { exitCode: ExitCode; lines: string[] } {
  if (!hasEnded(d))
    return {
      exitCode: ExitCode.StillRunning,
      lines: [
        `${d.id} still ${d.state} (${d.status?.message ?? 'no status yet'}); it goes on: glint wait ${d.id}`,
      ],
    };
  if (d.state === 'succeeded')
    return { exitCode: ExitCode.Ok, lines: [`${describeDeployment(d)}: succeeded`] };
  const lines = [`${describeDeployment(d)}: ${d.state.replace('_', ' ')}`];
  if (d.error) lines.push(`  reason: ${d.error.reason}: ${d.error.message}`);
  for (const l of d.error?.logs ?? []) lines.push(`  | ${l}`);
  return { exitCode: ExitCode.DeploymentFailed, lines };
}
