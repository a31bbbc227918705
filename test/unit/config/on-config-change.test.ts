import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../src/config/index.ts';

function parse(onConfigChange?: unknown) {
  return validateConfig({
    etcd: { endpoints: ['http://127.0.0.1:2379'] },
    apps: {
      web: {
        image: '127.0.0.1:5000/demo-app',
        version: '1.0.0',
        instances: 1,
        port: 8080,
        ...(onConfigChange === undefined ? {} : { onConfigChange }),
        health: { type: 'http', path: '/healthz' },
        routing: { frontendPort: 8080 },
      },
    },
  });
}

describe("an app's onConfigChange", () => {
  it.each([
    { given: undefined, want: 'rotate' },
    { given: 'rotate', want: 'rotate' },
    { given: 'none', want: 'none' },
    { given: 'ignore', want: 'none' },
  ])('$given reads as $want', ({ given, want }) => {
    const parsed = parse(given);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    expect(parsed.config.apps.web?.onConfigChange).toBe(want);
  });

  it('refuses another word, naming the field', () => {
    const parsed = parse('restart');
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.issues.map((i) => i.path)).toContain('apps.web.onConfigChange');
  });
});
