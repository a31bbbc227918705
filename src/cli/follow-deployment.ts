import type { ApiClient } from './api-client.ts';
import { changeLines, type DeploymentAnswer, hasEnded, outcome, progressBar } from './deployment-progress.ts';
import type { ExitCode } from './exit-codes.ts';

export type Output = { write(text: string): void; isTTY?: boolean };

/** Each long poll asks the daemon to answer within this, so progress shows as it happens. */
const POLL_WAIT_S = 1;

/**
 * Follows a deployment until it ends or `timeoutS` passes: a progress bar on a terminal, one
 * line per change otherwise (CI logs). The daemon's `?wait=` answers at once when it ends, so
 * the end is seen without delay; any daemon answers, followers included.
 */
export async function followDeployment(
  api: ApiClient,
  id: string,
  out: Output,
  timeoutS: number,
): Promise<ExitCode> {
  const deadline = Date.now() + timeoutS * 1000;
  let last: DeploymentAnswer | undefined;
  for (;;) {
    const left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
    const wait = Math.min(POLL_WAIT_S, left);
    const d = await api.call<DeploymentAnswer>(
      'GET',
      `/v1/deployments/${encodeURIComponent(id)}?wait=${wait}`,
      {
        timeoutMs: (wait + 30) * 1000,
      },
    );
    if (out.isTTY) out.write(`\r\x1b[K${progressBar(d)}`);
    else for (const line of changeLines(last, d)) out.write(`${line}\n`);
    last = d;
    if (hasEnded(d) || Date.now() >= deadline) break;
  }
  if (out.isTTY) out.write('\n');
  const result = outcome(last);
  for (const line of result.lines) out.write(`${line}\n`);
  return result.exitCode;
}
