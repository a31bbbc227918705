import { describe, expect, it } from 'vitest';
import { DockerErrorCode, parseImageReference, parseImageRequest } from '../../../src/docker/index.ts';

const D = `sha256:${'c'.repeat(64)}`;

describe('parseImageReference', () => {
  it.each([
    { ref: '127.0.0.1:5000/demo-app:1.2.0', registry: '127.0.0.1:5000', path: 'demo-app', tag: '1.2.0' },
    { ref: 'localhost/team/app', registry: 'localhost', path: 'team/app', tag: undefined },
    { ref: 'node:20-slim', registry: 'docker.io', path: 'library/node', tag: '20-slim' },
    { ref: 'bitnami/redis:7', registry: 'docker.io', path: 'bitnami/redis', tag: '7' },
    { ref: 'ghcr.io/acme/web', registry: 'ghcr.io', path: 'acme/web', tag: undefined },
  ])('reads $ref', ({ ref, registry, path, tag }) => {
    const parsed = parseImageReference(ref);
    expect(parsed).toMatchObject({ registry, path });
    expect(parsed.tag).toBe(tag);
  });

  it('keeps tag and digest apart when both are written', () => {
    expect(parseImageReference(`127.0.0.1:5000/demo-app:1.0.0@${D}`)).toEqual({
      registry: '127.0.0.1:5000',
      path: 'demo-app',
      repository: '127.0.0.1:5000/demo-app',
      tag: '1.0.0',
      digest: D,
    });
  });

  it.each(['demo-app@sha256:xyz', 'Demo-App:1', 'demo-app:bad tag'])('refuses %s with a code', (ref) => {
    expect(() => parseImageReference(ref)).toThrow(
      expect.objectContaining({ code: DockerErrorCode.InvalidImageRequest }),
    );
  });
});

describe('parseImageRequest', () => {
  const repo = '127.0.0.1:5000/demo-app';

  it('reads latest as the policy, not the tag', () => {
    expect(parseImageRequest(repo, 'latest')).toMatchObject({ kind: 'latest', image: { repository: repo } });
  });

  it('reads a version as the same tag that must carry that version', () => {
    expect(parseImageRequest(repo, '1.2.0')).toMatchObject({
      kind: 'tag',
      image: { tag: '1.2.0' },
      expectedVersion: '1.2.0',
    });
  });

  it('reads a bare digest against the app repository', () => {
    expect(parseImageRequest(repo, D)).toMatchObject({
      kind: 'digest',
      image: { repository: repo, digest: D },
    });
  });

  it('reads an explicit image:tag as written, with no version expectation for a non-version tag', () => {
    const req = parseImageRequest(repo, 'ghcr.io/acme/web:main');
    expect(req).toMatchObject({ kind: 'tag', image: { registry: 'ghcr.io', tag: 'main' } });
    expect(req).not.toHaveProperty('expectedVersion');
  });

  it('reads the literal tag latest when written with the repository', () => {
    expect(parseImageRequest(repo, `${repo}:latest`)).toMatchObject({
      kind: 'tag',
      image: { tag: 'latest' },
    });
  });

  it('refuses an app repository that already carries a tag', () => {
    expect(() => parseImageRequest(`${repo}:1.0.0`, 'latest')).toThrow(/must be a repository without tag/);
  });

  it('refuses an explicit image without tag or digest', () => {
    expect(() => parseImageRequest(repo, 'ghcr.io/acme/web')).toThrow(/names no tag or digest/);
  });
});
