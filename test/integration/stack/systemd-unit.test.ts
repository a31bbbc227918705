import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const UNIT = 'scripts/systemd/glint.service';
const scratch = mkdtempSync(join(tmpdir(), 'su-'));

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** `systemd-analyze verify` on a unit file; its complaints, or '' when it has none. */
async function verify(path: string): Promise<string> {
  try {
    const { stdout, stderr } = await run('systemd-analyze', ['verify', path]);
    return `${stdout}${stderr}`.trim();
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return `${e.stdout ?? ''}${e.stderr ?? ''}`.trim() || e.message;
  }
}

describe('the systemd unit', () => {
  const text = readFileSync(UNIT, 'utf8');
  const directive = (name: string) => text.match(new RegExp(`^${name}=(.*)$`, 'm'))?.[1];

  it('passes systemd-analyze verify', async () => {
    expect(await verify(UNIT)).toBe('');
  });

  it('is checked for real: a unit whose ExecStart names no program is refused', async () => {
    const broken = join(scratch, 'glint.service');
    writeFileSync(broken, text.replace(/^ExecStart=\S+/m, 'ExecStart=/nonexistent/node'));
    expect(await verify(broken)).toMatch(/nonexistent\/node.*not executable/i);
  });

  it.each([
    ['Restart', 'on-failure'],
    ['ExecReload', '/bin/kill -HUP $MAINPID'],
    ['KillSignal', 'SIGTERM'],
    ['StandardOutput', 'journal'],
    ['NoNewPrivileges', 'yes'],
  ])('%s=%s', (name, value) => {
    expect(directive(name)).toBe(value);
  });

  it('runs the daemon on the declaration and reads tokens from an environment file, not the unit', () => {
    expect(directive('ExecStart')).toMatch(/glint\.js daemon --config \S+scheduler\.config\.ts$/);
    expect(directive('EnvironmentFile')).toBe('-/etc/glint/glint.env');
    expect(text).not.toMatch(/^Environment=.*TOKEN/m);
  });
});
