import { describe, expect, it } from 'vitest';
import { assertCliSuccess, parseCliMessages } from '../../../src/lb/cli-reply.ts';
import { parseShowProc } from '../../../src/lb/parse-show-proc.ts';
import { parseShowStat } from '../../../src/lb/parse-show-stat.ts';

// Answers captured from HAProxy 2.6.12.
const SHOW_STAT = `# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx
fe_a,FRONTEND,,,0,0,9978,0,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,0,0,0,,,,0
be_a,s1,0,0,3,4,,12,0,0,,0,,0,0,2,1,UP,1,1,0,0,0,5,0,,1,4,7,,12,,2,0,,1,L7OK,200,1,0
be_a,s3,2,2,0,0,,0,0,0,,0,,0,0,0,0,DRAIN,1,1,0,0,0,5,0,,1,4,12,,0,,2,0,,0,* L4CON,,0,0
be_a,BACKEND,0,0,3,4,1996,12,0,0,0,0,,0,0,0,0,UP,1,1,0,,0,5,0,,1,4,0,,12,,1,0,,1,,,,0
`;

const SHOW_PROC = `#<PID>          <type>          <reloads>       <uptime>        <version>
8606            master          2 [failed: 1]   0d00h00m41s     2.6.12-1+deb12u4
# workers
9686            worker          0               0d00h00m04s     2.6.12-1+deb12u4
# old workers
8609            worker          1               0d00h00m40s     2.6.12-1+deb12u4
# programs
`;

describe('parseShowStat', () => {
  it('reads sessions, queue, status and the last check result per server', () => {
    const rows = parseShowStat(SHOW_STAT);
    expect(rows.find((r) => r.server === 's1')).toMatchObject({
      proxy: 'be_a',
      scur: 3,
      qcur: 0,
      stot: 12,
      retries: 2,
      redispatches: 1,
      status: 'UP',
      checkStatus: 'L7OK',
      checkCode: '200',
    });
    expect(rows.find((r) => r.server === 's3')).toMatchObject({
      qcur: 2,
      status: 'DRAIN',
      checkStatus: 'L4CON',
    });
  });

  it('refuses an answer without a header rather than report no servers', () => {
    expect(() => parseShowStat('\n')).toThrow(
      expect.objectContaining({ name: 'TransientError', code: 'LbUnexpectedAnswer' }),
    );
  });
});

describe('parseShowProc', () => {
  it('reads the master, the current workers and the old ones', () => {
    expect(parseShowProc(SHOW_PROC)).toEqual({
      masterPid: 8606,
      reloads: 2,
      failedReloads: 1,
      workers: [{ pid: 9686, reloads: 0 }],
      oldWorkers: [{ pid: 8609, reloads: 1 }],
    });
  });

  it('fails clearly on an answer that is not show proc', () => {
    expect(() => parseShowProc('Unknown command.')).toThrow(/no master line/);
  });
});

describe('CLI replies with severity-output number', () => {
  it('splits messages and their levels', () => {
    expect(parseCliMessages('\n[6]: New server registered.\n')).toEqual([
      { severity: 6, text: 'New server registered.' },
    ]);
  });

  it.each([
    { answer: '\n\n', ok: true },
    { answer: '\n[6]: New server registered.\n', ok: true },
    { answer: "\n[3]: 'id' : custom id 12 already used\n", ok: false },
    { answer: '\n[3]: No such server.\n', ok: false },
    { answer: 'Unknown command. Please enter one of the following commands only :\n', ok: false },
  ])('accepts only answers without an error: $answer', ({ answer, ok }) => {
    const run = () => assertCliSuccess('del server be_a/s1', answer);
    if (ok) expect(run()).toBe(answer);
    else expect(run).toThrow(/HAProxy (refused|does not know) .*del server be_a\/s1/);
  });
});
