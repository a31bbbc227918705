import { TransientError } from '../errors/index.ts';
import { LbErrorCode } from './error-codes.ts';

export type ProcEntry = { pid: number; reloads: number };

export type ProcInfo = {
  masterPid: number;
  /** Reloads the master has processed, failed ones included. */
  reloads: number;
  failedReloads: number;
  workers: ProcEntry[];
  /** Workers from before a reload, still finishing their connections. */
  oldWorkers: ProcEntry[];
};

const ROW = /^(\d+)\s+(\S+)\s+(\d+)(?:\s+\[failed:\s*(\d+)\])?/;

/** Parses the master CLI's `show proc`. Pure; throws (transient: usually a cut answer) when no master line is present. */
export function parseShowProc(output: string): ProcInfo {
  const info: ProcInfo = { masterPid: 0, reloads: 0, failedReloads: 0, workers: [], oldWorkers: [] };
  let sectionName = 'master';
  for (const raw of output.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#<PID>') || line === '') continue;
    if (line.startsWith('#')) {
      sectionName = line.replace(/^#\s*/, '');
      continue;
    }
    const match = ROW.exec(line);
    if (!match) continue;
    const entry = { pid: Number(match[1]), reloads: Number(match[3]) };
    if (match[2] === 'master') {
      info.masterPid = entry.pid;
      info.reloads = entry.reloads;
      info.failedReloads = Number(match[4] ?? 0);
    } else if (sectionName === 'workers') info.workers.push(entry);
    else if (sectionName === 'old workers') info.oldWorkers.push(entry);
  }
  if (info.masterPid === 0)
    throw new TransientError(
      LbErrorCode.UnexpectedAnswer,
      `HAProxy's master CLI answered "show proc" with no master line: ${output.slice(0, 200)}`,
    );
  return info;
}
