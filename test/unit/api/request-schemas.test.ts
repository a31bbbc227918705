import { describe, expect, it } from 'vitest';
import { requestedTarget } from '../../../src/api/deploy-target.ts';
import { parseRequestPart } from '../../../src/api/parse-request.ts';
import {
  deployBody,
  deploymentListQuery,
  rollbackBody,
  scaleBody,
} from '../../../src/api/request-schemas.ts';
import { GlintError } from '../../../src/errors/index.ts';

const DIGEST = `sha256:${'a'.repeat(64)}`;

function issuePaths(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    if (err instanceof GlintError && err.code === 'InvalidRequest')
      return ((err.details?.issues ?? []) as Array<{ path: string }>).map((i) => i.path);
    throw err;
  }
  return [];
}

type Row = { name: string; body: unknown; paths: string[] };

const deployRows: Row[] = [
  { name: 'a version', body: { version: '1.2.0' }, paths: [] },
  { name: 'latest', body: { version: 'latest' }, paths: [] },
  { name: 'a digest', body: { digest: DIGEST }, paths: [] },
  { name: 'an image with a tag', body: { image: '127.0.0.1:5000/demo-app:1.2.0' }, paths: [] },
  {
    name: 'strategy overrides',
    body: { version: '1.2.0', strategy: { maxSurge: '50%', minHealthyTime: '2s', canary: 1 } },
    paths: [],
  },
  { name: 'nothing to deploy', body: {}, paths: ['body.version'] },
  { name: 'a version and a digest', body: { version: '1.2.0', digest: DIGEST }, paths: ['body.version'] },
  { name: 'a number as version', body: { version: 120 }, paths: ['body.version'] },
  { name: 'a version that is an image', body: { version: 'evil/image:1.0.0' }, paths: ['body.version'] },
  { name: 'a short digest', body: { digest: 'sha256:abc' }, paths: ['body.digest'] },
  { name: 'an unknown field', body: { version: '1.2.0', privileged: true }, paths: ['body'] },
  {
    name: 'a bad duration override',
    body: { version: '1.2.0', strategy: { drainTimeout: '10 minutes' } },
    paths: ['body.strategy.drainTimeout'],
  },
  {
    name: 'a privilege in the strategy',
    body: { version: '1.2.0', strategy: { capAdd: ['SYS_ADMIN'] } },
    paths: ['body.strategy'],
  },
  {
    name: 'a negative canary',
    body: { version: '1.2.0', strategy: { canary: -1 } },
    paths: ['body.strategy.canary'],
  },
  { name: 'a reason too long', body: { version: '1.2.0', reason: 'x'.repeat(501) }, paths: ['body.reason'] },
];

describe('deployBody', () => {
  it.each(deployRows)('$name', ({ body, paths }) => {
    expect(issuePaths(() => parseRequestPart(deployBody, 'body', body))).toEqual(paths);
  });

  it('turns durations into milliseconds', () => {
    const parsed = parseRequestPart(deployBody, 'body', {
      version: '1.0.0',
      strategy: { minHealthyTime: '2s' },
    });
    expect(parsed.strategy?.minHealthyTime).toBe(2000);
  });

  it('does not echo a huge field back in full', () => {
    try {
      parseRequestPart(deployBody, 'body', { ['k'.repeat(100_000)]: 1, version: '1.0.0' });
      expect.unreachable();
    } catch (err) {
      expect((err as GlintError).message.length).toBeLessThan(2_000);
    }
  });
});

const otherRows: Array<Row & { schema: 'scale' | 'rollback' | 'list' }> = [
  { name: 'scale to 3', schema: 'scale', body: { instances: 3 }, paths: [] },
  { name: 'scale to a fraction', schema: 'scale', body: { instances: 1.5 }, paths: ['body.instances'] },
  { name: 'scale as text', schema: 'scale', body: { instances: '3' }, paths: ['body.instances'] },
  { name: 'scale past 100', schema: 'scale', body: { instances: 101 }, paths: ['body.instances'] },
  { name: 'scale without a count', schema: 'scale', body: {}, paths: ['body.instances'] },
  { name: 'rollback to the previous', schema: 'rollback', body: {}, paths: [] },
  { name: 'rollback to a version', schema: 'rollback', body: { version: '1.0.0' }, paths: [] },
  { name: 'rollback to junk', schema: 'rollback', body: { version: '../1' }, paths: ['body.version'] },
  { name: 'list with a limit', schema: 'list', body: { limit: '10', state: 'running' }, paths: [] },
  { name: 'list with a limit of 0', schema: 'list', body: { limit: '0' }, paths: ['query.limit'] },
  { name: 'list in an unknown state', schema: 'list', body: { state: 'exploded' }, paths: ['query.state'] },
  { name: 'list of a bad app name', schema: 'list', body: { app: 'Web/../x' }, paths: ['query.app'] },
];

describe('scale, rollback and list schemas', () => {
  const schemas = { scale: scaleBody, rollback: rollbackBody, list: deploymentListQuery };
  it.each(otherRows)('$name', ({ schema, body, paths }) => {
    const part = schema === 'list' ? 'query' : 'body';
    expect(issuePaths(() => parseRequestPart(schemas[schema], part, body))).toEqual(paths);
  });
});

describe('requestedTarget', () => {
  const repo = '127.0.0.1:5000/demo-app';
  const declared = { image: repo, allowedImages: ['127.0.0.1:5000/demo-app-hotfix'] };
  it('an image of a repository the app allows goes on with that repository', () => {
    expect(requestedTarget('web', declared, { image: '127.0.0.1:5000/demo-app-hotfix:1.3.1' })).toEqual({
      version: '1.3.1',
      repository: '127.0.0.1:5000/demo-app-hotfix',
    });
  });
  const rows: Array<{ name: string; body: Parameters<typeof requestedTarget>[2]; want: string | RegExp }> = [
    { name: 'a version as given', body: { version: '1.2.0' }, want: '1.2.0' },
    { name: 'a digest as given', body: { digest: DIGEST }, want: DIGEST },
    { name: "the tag of the app's repository", body: { image: `${repo}:1.3.0` }, want: '1.3.0' },
    { name: "a digest of the app's repository", body: { image: `${repo}@${DIGEST}` }, want: DIGEST },
    {
      name: 'another repository on the same registry',
      body: { image: '127.0.0.1:5000/other:1.0.0' },
      want: /ImageNotAllowed/,
    },
    {
      name: 'the same path on another registry',
      body: { image: 'evil.example:5000/demo-app:1.0.0' },
      want: /ImageNotAllowed/,
    },
    { name: 'a Docker Hub image', body: { image: 'alpine:3' }, want: /ImageNotAllowed/ },
    { name: 'the repository without tag or digest', body: { image: repo }, want: /InvalidRequest/ },
  ];
  it.each(rows)('$name', ({ body, want }) => {
    if (typeof want === 'string') {
      expect(requestedTarget('web', declared, body)).toEqual({ version: want });
      return;
    }
    try {
      requestedTarget('web', declared, body);
      expect.unreachable();
    } catch (err) {
      expect((err as GlintError).code).toMatch(want);
    }
  });
});
