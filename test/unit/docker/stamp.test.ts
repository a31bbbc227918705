import { describe, expect, it } from 'vitest';
import { DockerErrorCode, readStamp, STAMP_LABELS, verifyStamp } from '../../../src/docker/index.ts';

const labels = (version?: string, revision?: string) => ({
  ...(version === undefined ? {} : { [STAMP_LABELS.version]: version }),
  ...(revision === undefined ? {} : { [STAMP_LABELS.revision]: revision }),
});

type Row = { name: string; labels: Record<string, string>; expected?: string; code?: string };

const rows: Row[] = [
  { name: 'passes when version and revision match', labels: labels('1.2.0', 'abc'), expected: '1.2.0' },
  { name: 'treats v1.2.0 and 1.2.0 as the same version', labels: labels('1.2.0', 'abc'), expected: 'v1.2.0' },
  { name: 'passes with no expectation when both labels exist', labels: labels('main-42', 'abc') },
  {
    name: 'refuses another version',
    labels: labels('1.1.0', 'abc'),
    expected: '1.2.0',
    code: DockerErrorCode.StampMismatch,
  },
  {
    name: 'refuses a missing revision',
    labels: labels('1.2.0'),
    expected: '1.2.0',
    code: DockerErrorCode.StampMissing,
  },
  { name: 'refuses a missing version', labels: labels(undefined, 'abc'), code: DockerErrorCode.StampMissing },
  { name: 'refuses blank labels as missing', labels: labels(' ', ' '), code: DockerErrorCode.StampMissing },
];

describe('verifyStamp', () => {
  it.each(rows)('$name', (row) => {
    const run = () =>
      verifyStamp({ image: 'demo-app:1.2.0', stamp: readStamp(row.labels), expectedVersion: row.expected });
    if (row.code) expect(run).toThrow(expect.objectContaining({ code: row.code }));
    else expect(run).not.toThrow();
  });

  it('says which version the image carries and how to fix it', () => {
    expect(() =>
      verifyStamp({
        image: 'demo-app:1.2.0',
        stamp: readStamp(labels('1.1.0', 'x')),
        expectedVersion: '1.2.0',
      }),
    ).toThrow('image demo-app:1.2.0 is stamped 1.1.0, not 1.2.0');
  });
});
