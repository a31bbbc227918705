import { describe, expect, it } from 'vitest';
import { defaultHaproxyRunDir } from '../../../src/config/haproxy-run-dir.ts';
import { validateConfig } from '../../../src/config/validate-config.ts';

describe('defaultHaproxyRunDir', () => {
  const rows = [
    { name: 'root gets a machine folder', env: { HOME: '/root' }, uid: 0, want: '/var/lib/glint/haproxy' },
    {
      name: 'a user gets their XDG state home',
      env: { HOME: '/home/ann', XDG_STATE_HOME: '/home/ann/.state' },
      uid: 1000,
      want: '/home/ann/.state/glint/haproxy',
    },
    {
      name: 'a user without XDG_STATE_HOME gets ~/.local/state',
      env: { HOME: '/home/ann' },
      uid: 1000,
      want: '/home/ann/.local/state/glint/haproxy',
    },
    {
      name: 'GLINT_HAPROXY_RUN_DIR wins for anyone',
      env: { HOME: '/root', GLINT_HAPROXY_RUN_DIR: '/srv/lb' },
      uid: 0,
      want: '/srv/lb',
    },
  ];
  it.each(rows)('$name', ({ env, uid, want }) => {
    expect(defaultHaproxyRunDir(env, uid)).toBe(want);
  });
});

it('a declaration without haproxy.runDir gets a run folder that does not depend on the working folder', () => {
  const result = validateConfig({ apps: {} });
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  expect(result.config.haproxy.runDir).toBe(defaultHaproxyRunDir());
  expect(result.config.haproxy.runDir.startsWith('/')).toBe(true);
  expect(result.config.haproxy.runDir).not.toContain(process.cwd());
});
