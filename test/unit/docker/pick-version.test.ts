import { describe, expect, it } from 'vitest';
import { newestVersionTags, pickLatestVersion } from '../../../src/docker/index.ts';

type Row = { name: string; tags: string[]; allowPrerelease: boolean; want: string | undefined };

const rows: Row[] = [
  {
    name: 'picks the highest release',
    tags: ['1.0.0', '1.2.0', '1.1.0'],
    allowPrerelease: false,
    want: '1.2.0',
  },
  {
    name: 'compares numerically, not as text',
    tags: ['1.9.0', '1.10.0', '1.2.0'],
    allowPrerelease: false,
    want: '1.10.0',
  },
  {
    name: 'ignores tags that are not versions',
    tags: ['latest', 'main', 'sha-abc', '0.3.0'],
    allowPrerelease: false,
    want: '0.3.0',
  },
  {
    name: 'skips prereleases unless allowed',
    tags: ['1.0.0', '1.1.0-rc.1'],
    allowPrerelease: false,
    want: '1.0.0',
  },
  {
    name: 'takes a prerelease when allowed and highest',
    tags: ['1.0.0', '1.1.0-rc.1'],
    allowPrerelease: true,
    want: '1.1.0-rc.1',
  },
  {
    name: 'a release beats its own prerelease',
    tags: ['1.1.0-rc.2', '1.1.0'],
    allowPrerelease: true,
    want: '1.1.0',
  },
  { name: 'accepts a leading v', tags: ['v2.0.0', '1.5.0'], allowPrerelease: false, want: 'v2.0.0' },
  {
    name: 'prefers the plain spelling of an equal version',
    tags: ['v1.0.0', '1.0.0'],
    allowPrerelease: false,
    want: '1.0.0',
  },
  {
    name: 'nothing when no tag is a version',
    tags: ['latest', 'main'],
    allowPrerelease: false,
    want: undefined,
  },
  {
    name: 'nothing when only prereleases and none allowed',
    tags: ['2.0.0-beta.1'],
    allowPrerelease: false,
    want: undefined,
  },
  { name: 'partial versions do not count', tags: ['1.2', '1'], allowPrerelease: false, want: undefined },
];

describe('pickLatestVersion', () => {
  it.each(rows)('$name', (row) => {
    expect(pickLatestVersion(row.tags, { allowPrerelease: row.allowPrerelease })?.tag).toBe(row.want);
  });
});

describe('newestVersionTags', () => {
  it('lists distinct release versions, highest first, up to the count', () => {
    const tags = ['1.0.0', 'latest', '1.2.0', 'v1.2.0', '1.1.0', '0.9.0', '1.3.0-rc.1'];
    expect(newestVersionTags(tags, 3)).toEqual(['1.2.0', '1.1.0', '1.0.0']);
  });

  it('is empty when nothing is a version', () => {
    expect(newestVersionTags(['latest'], 3)).toEqual([]);
  });
});
