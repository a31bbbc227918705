import { type LbHealthCheck, passingCheckStatus, type ServerState } from './lb-model.ts';
import type { ObservedServer } from './parse-servers-state.ts';
import type { StatRow } from './parse-show-stat.ts';

/** One server of an app's backend as HAProxy reports it now (not as the model remembers it). */
export type LiveServer = {
  name: string;
  state: ServerState;
  /** HAProxy's own check passed and HAProxy counts the server up; see `hasPassedCheck`. */
  checkPassed: boolean;
  /** The last check's result (`L7OK`, `L4OK`, `L4CON`, `L7STS`, ...); empty before any check. */
  checkStatus: string;
  /** Current sessions. */
  sessions: number;
};

/**
 * HAProxy's own check passed (`L7OK` for an HTTP check, `L4OK` for a TCP one) and HAProxy
 * counts the server up: still staged in drain, or ready. A server that passed one check but
 * not yet `rise` in a row shows `DOWN 1/2` and has not passed.
 */
export const hasPassedCheck =
  (check: LbHealthCheck) =>
  (row: StatRow): boolean =>
    row.checkStatus === passingCheckStatus(check) && /^(UP|DRAIN)\b/.test(row.status);

export const hasNoSessions = (row: StatRow): boolean => row.scur === 0 && row.qcur === 0;

/**
 * Joins `show stat` (sessions, last check) with `show servers state` (admin state) for one
 * backend. Pure. A server in the stat listing but not the state one (added between the two
 * answers) takes its state from its status, so no server HAProxy shows is left out.
 */
export function liveServers(
  backend: string,
  check: LbHealthCheck,
  stat: StatRow[],
  states: ObservedServer[],
): LiveServer[] {
  const adminState = new Map(states.filter((s) => s.backend === backend).map((s) => [s.name, s.state]));
  const passed = hasPassedCheck(check);
  return stat
    .filter((row) => row.proxy === backend && row.server !== 'BACKEND' && row.server !== 'FRONTEND')
    .map((row) => ({
      name: row.server,
      state: adminState.get(row.server) ?? stateFromStatus(row.status),
      checkPassed: passed(row),
      checkStatus: row.checkStatus,
      sessions: row.scur,
    }));
}

function stateFromStatus(status: string): ServerState {
  if (status.startsWith('MAINT')) return 'maint';
  if (status.startsWith('DRAIN')) return 'drain';
  return 'ready';
}
