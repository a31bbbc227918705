import { describe, expect, it } from 'vitest';
import { bearerTokenOf, type Role, roleAllows, TokenTable } from '../../../src/api/api-tokens.ts';

const roleRows: Array<{ have: Role; need: Role; allowed: boolean }> = [
  { have: 'read', need: 'read', allowed: true },
  { have: 'read', need: 'deploy', allowed: false },
  { have: 'read', need: 'admin', allowed: false },
  { have: 'deploy', need: 'read', allowed: true },
  { have: 'deploy', need: 'deploy', allowed: true },
  { have: 'deploy', need: 'admin', allowed: false },
  { have: 'admin', need: 'read', allowed: true },
  { have: 'admin', need: 'deploy', allowed: true },
  { have: 'admin', need: 'admin', allowed: true },
];

describe('roleAllows', () => {
  it.each(roleRows)('a $have token $allowed for what needs $need', ({ have, need, allowed }) => {
    expect(roleAllows(have, need)).toBe(allowed);
  });
});

const bearerRows: Array<{ name: string; header: string | undefined; token: string | undefined }> = [
  { name: 'a bearer header', header: 'Bearer abc.def-1', token: 'abc.def-1' },
  { name: 'the scheme in any case', header: 'bearer xyz', token: 'xyz' },
  { name: 'trailing blanks', header: 'Bearer xyz  ', token: 'xyz' },
  { name: 'no header', header: undefined, token: undefined },
  { name: 'an empty header', header: '', token: undefined },
  { name: 'basic auth', header: 'Basic dXNlcjpwYXNz', token: undefined },
  { name: 'a scheme without a token', header: 'Bearer ', token: undefined },
  { name: 'two tokens', header: 'Bearer a b', token: undefined },
  { name: 'a token without a scheme', header: 'abc', token: undefined },
];

describe('bearerTokenOf', () => {
  it.each(bearerRows)('$name', ({ header, token }) => {
    expect(bearerTokenOf(header)).toBe(token);
  });
});

describe('TokenTable', () => {
  const table = new TokenTable([
    { name: 'root', role: 'admin', token: 'admin-secret' },
    { name: 'ci', role: 'deploy', token: 'deploy-secret' },
    { name: 'dash', role: 'read', token: 'read-secret' },
    { name: 'unset', role: 'admin', token: '' },
  ]);

  it('names the caller and role of a known token', () => {
    expect(table.identify('deploy-secret')).toEqual({ name: 'ci', role: 'deploy' });
    expect(table.identify('read-secret')).toEqual({ name: 'dash', role: 'read' });
  });

  it('knows no token that differs by a prefix, a suffix or case', () => {
    for (const t of ['deploy-secre', 'deploy-secrets', 'DEPLOY-SECRET', ' deploy-secret', 'x'.repeat(5000)])
      expect(table.identify(t)).toBeUndefined();
  });

  it('never matches an empty token, even when an entry was left empty', () => {
    expect(table.identify('')).toBeUndefined();
  });

  it('keeps no token value in what it returns', () => {
    expect(JSON.stringify(table.identify('admin-secret'))).not.toContain('admin-secret');
  });
});
