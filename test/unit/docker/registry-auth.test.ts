import { describe, expect, it } from 'vitest';
import { parseAuthChallenge } from '../../../src/docker/registry-auth.ts';

describe('parseAuthChallenge', () => {
  it('reads a Bearer challenge with quoted params', () => {
    expect(
      parseAuthChallenge(
        'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"',
      ),
    ).toEqual({
      scheme: 'bearer',
      params: {
        realm: 'https://auth.example/token',
        service: 'registry.example',
        scope: 'repository:a/b:pull',
      },
    });
  });

  it('reads a Basic challenge', () => {
    expect(parseAuthChallenge('Basic realm="glint-test"')).toEqual({
      scheme: 'basic',
      params: { realm: 'glint-test' },
    });
  });

  it('reads unquoted values and escapes', () => {
    expect(parseAuthChallenge('Bearer realm=http://x/t, service="a\\"b"').params).toEqual({
      realm: 'http://x/t',
      service: 'a"b',
    });
  });
});
