import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { configCheckCommand } from '../../../src/cli/config-check-command.ts';

function capture() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk) => {
    text += chunk;
  });
  return { stream, text: () => text };
}

function writeDeclaration(body: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'glint-config-'));
  const file = join(dir, 'scheduler.config.ts');
  writeFileSync(file, body);
  return file;
}

describe('glint config check', () => {
  it('accepts the checked-in demo declaration', async () => {
    const out = capture();
    const err = capture();
    expect(await configCheckCommand('scheduler.config.ts', out.stream, err.stream)).toBe(0);
    expect(out.text()).toContain('web (3× 127.0.0.1:5000/demo-app:1.0.0)');
  });

  it('prints every problem with its field path and exits 1', async () => {
    const file = writeDeclaration(`export default {
      apps: { web: { image: 'demo', version: '1.0.0', instances: 1, port: 8080,
        health: { type: 'http', path: '/healthz' },
        strategy: { maxSurge: 0, maxUnavailable: 0 } } },
    };`);
    const out = capture();
    const err = capture();
    expect(await configCheckCommand(file, out.stream, err.stream)).toBe(1);
    expect(err.text()).toContain('apps.web.strategy: maxSurge and maxUnavailable are both 0');
  });

  it('says what to do when the file has no default export', async () => {
    const file = writeDeclaration('export const config = {};');
    const err = capture();
    expect(await configCheckCommand(file, capture().stream, err.stream)).toBe(1);
    expect(err.text()).toContain('export default defineConfig');
  });

  it('names the field that holds a function: a declaration is data', async () => {
    const file = writeDeclaration(`export default {
      apps: { web: { image: 'demo', version: '1.0.0', instances: 1, port: 8080,
        health: { type: 'http', path: () => '/healthz' } } },
    };`);
    const err = capture();
    expect(await configCheckCommand(file, capture().stream, err.stream)).toBe(1);
    expect(err.text()).toContain('apps.web.health.path is a function; a declaration holds only data');
  });

  it('says where a file that does not compile breaks', async () => {
    const file = writeDeclaration('export default {\n  apps: {\n');
    const err = capture();
    expect(await configCheckCommand(file, capture().stream, err.stream)).toBe(1);
    expect(err.text()).toMatch(/could not be loaded: .*scheduler\.config\.ts:3:\d+: ERROR: \S/);
  });

  it('names a missing file', async () => {
    const err = capture();
    expect(await configCheckCommand('/nonexistent/scheduler.config.ts', capture().stream, err.stream)).toBe(
      1,
    );
    expect(err.text()).toContain('cannot read /nonexistent/scheduler.config.ts');
  });
});
