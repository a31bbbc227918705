import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { resolveEnvSnapshot } from '../../../src/etcd/env-snapshot.ts';
import { createLogger } from '../../../src/log/index.ts';

const SECRET = 'hunter2-do-not-print';
const resolved = resolveEnvSnapshot({
  app: 'web',
  frontends: new Map(),
  staticEnv: { PORT: '8080' },
  shared: [],
  config: [],
  secrets: [{ key: '/glint/secrets/web/API_TOKEN', value: SECRET }],
  services: new Map(),
  revision: 3,
});

describe('ResolvedEnv', () => {
  it('keeps the values for the container it is handed to', () => {
    expect(resolved.env).toEqual({ API_TOKEN: SECRET, PORT: '8080' });
  });

  it('serialises to names and fingerprint only', () => {
    const json = JSON.stringify({ env: resolved });
    expect(json).not.toContain(SECRET);
    expect(json).toContain('API_TOKEN');
    expect(json).toContain(resolved.fingerprint);
  });

  it('does not show values through util.inspect', () => {
    expect(inspect(resolved, { depth: 5 })).not.toContain(SECRET);
  });

  it('does not leak values into a log line when logged by mistake', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    createLogger({ destination }).info({ resolved }, 'env resolved');
    expect(lines.join('')).toContain('API_TOKEN');
    expect(lines.join('')).not.toContain(SECRET);
  });
});
