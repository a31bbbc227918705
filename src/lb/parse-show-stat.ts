import { TransientError } from '../errors/index.ts';
import { LbErrorCode } from './error-codes.ts';

/** The `show stat` columns glint reads, per server or proxy row. */
export type StatRow = {
  proxy: string;
  server: string;
  /** Current sessions. */
  scur: number;
  /** Requests queued, waiting for a server slot. */
  qcur: number;
  /** Sessions served since the worker started. */
  stot: number;
  /** Requests retried (`wretr`) and redispatched to another server (`wredis`). */
  retries: number;
  redispatches: number;
  /** `UP`, `DOWN`, `DRAIN`, `MAINT`, `UP 1/2` while changing, ... */
  status: string;
  /** Result of the last health check, e.g. `L7OK`, `L4CON`, `L7STS`; empty before any check. */
  checkStatus: string;
  checkCode: string;
  lastCheck: string;
};

/**
 * Parses `show stat` CSV (header line `# pxname,svname,...`). Pure. HAProxy always prints the
 * header, so an answer without one was cut short: it throws rather than say "no servers".
 */
export function parseShowStat(output: string): StatRow[] {
  const lines = output.split('\n').filter((l) => l.trim() !== '');
  const header = lines.find((l) => l.startsWith('# '));
  if (!header) {
    throw new TransientError(
      LbErrorCode.UnexpectedAnswer,
      `HAProxy answered "show stat" without its header line: ${JSON.stringify(output.slice(0, 200))}`,
    );
  }
  const columns = header.slice(2).split(',');
  const col = (name: string) => columns.indexOf(name);
  const idx = {
    pxname: col('pxname'),
    svname: col('svname'),
    scur: col('scur'),
    qcur: col('qcur'),
    stot: col('stot'),
    wretr: col('wretr'),
    wredis: col('wredis'),
    status: col('status'),
    checkStatus: col('check_status'),
    checkCode: col('check_code'),
    lastChk: col('last_chk'),
  };
  return lines
    .filter((l) => !l.startsWith('#'))
    .map((line) => {
      const cells = line.split(',');
      const cell = (i: number) => (i >= 0 ? (cells[i] ?? '') : '');
      return {
        proxy: cell(idx.pxname),
        server: cell(idx.svname),
        scur: Number(cell(idx.scur) || 0),
        qcur: Number(cell(idx.qcur) || 0),
        stot: Number(cell(idx.stot) || 0),
        retries: Number(cell(idx.wretr) || 0),
        redispatches: Number(cell(idx.wredis) || 0),
        status: cell(idx.status),
        checkStatus: cell(idx.checkStatus).replace(/^\* /, ''),
        checkCode: cell(idx.checkCode),
        lastCheck: cell(idx.lastChk),
      };
    });
}
