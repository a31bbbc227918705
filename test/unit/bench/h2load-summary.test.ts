import { describe, expect, it } from 'vitest';
import { describeH2loadMix, summarizeH2load } from '../../../bench/support/h2load-load.ts';

// What h2load 1.52 prints at the end of a run (progress lines left out).
const printed = (total: number, succeeded: number) => `finished in 10.02s, 499.10 req/s, 19.13MB/s
requests: ${total} total, ${total} started, ${total} done, ${succeeded} succeeded, ${total - succeeded} failed, 0 errored, 0 timeout
status codes: ${succeeded} 2xx, 0 3xx, 0 4xx, 0 5xx
                     min         max         mean         sd        +/- sd
time for request:       90us     12.32ms       326us       525us    96.26%
time for connect:       31us       815us        72us        31us    92.90%
time to 1st byte:      155us     12.37ms       387us       528us    96.08%
`;

/** A log of `n` requests taking 1..n ms, in shuffled order, with the given statuses. */
function log(n: number, status = (_i: number) => 200): string {
  const rows = Array.from(
    { length: n },
    (_, i) => `${1_796_406_736_957_376 + i * 2000}\t${status(i)}\t${(i + 1) * 1000}`,
  );
  return `${rows.reverse().join('\n')}\n`;
}

describe('summarizeH2load', () => {
  it('reads percentiles from the per-request log and the rest from the printed summary', () => {
    const s = summarizeH2load(log(200), printed(200, 200));
    expect(s).toEqual({
      requests: 200,
      ok2xx: 200,
      ratePerSec: 499.1,
      p50Ms: 100,
      p99Ms: 198,
      maxMs: 200,
      connectMeanMs: 0.072,
      connectMaxMs: 0.815,
    });
  });

  it('counts answers that are not 2xx, and requests that got no answer at all', () => {
    const s = summarizeH2load(
      log(98, (i) => (i === 5 ? 503 : 200)),
      printed(100, 98),
    );
    expect(s.requests).toBe(100);
    expect(s.ok2xx).toBe(97);
  });

  it('throws with what h2load printed when it printed no summary', () => {
    expect(() => summarizeH2load('', 'connect to 127.0.0.1:1 failed')).toThrow(
      /printed no summary[\s\S]*failed/,
    );
  });
});

describe('describeH2loadMix', () => {
  const run = (over: Partial<ReturnType<typeof summarizeH2load>>) => ({
    command: 'h2load …',
    summary: { ...summarizeH2load(log(100), printed(100, 100)), p99Ms: 4, ratePerSec: 500, ...over },
  });
  const cases: Array<[string, Parameters<typeof run>[0], Parameters<typeof run>[0], boolean]> = [
    ['both halves under the target', {}, {}, true],
    ['keep-alive half over it', { p99Ms: 10.2 }, {}, false],
    ['new connections half over it', {}, { p99Ms: 10 }, false],
    ['one request not 2xx', {}, { ok2xx: 99 }, false],
    ['the rate asked not kept', { ratePerSec: 400 }, { ratePerSec: 400 }, false],
  ];
  it.each(cases)('%s', (_name, keepAlive, fresh, met) => {
    expect(describeH2loadMix({ keepAlive: run(keepAlive), fresh: run(fresh) }, 1000).met).toBe(met);
  });
});
