import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ApiWorld, startApiWorld, TOKENS } from './api-world.ts';

vi.setConfig({ testTimeout: 60_000 });

const worlds: ApiWorld[] = [];
afterEach(async () => {
  await Promise.all(worlds.splice(0).map((w) => w.close()));
});

async function scrape(w: ApiWorld): Promise<string> {
  const res = await w.call('GET', '/metrics', { token: null });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  return res.text;
}

describe('GET /metrics', () => {
  it('answers without a token, with leadership and ready instances', async () => {
    const w = await startApiWorld();
    worlds.push(w);
    const text = await scrape(w);
    expect(text).toContain('glint_leader 1');
    expect(text).toContain('glint_instances_ready{app="web"} 0');
  });

  it('counts a deployment by kind and result once it ended, and times answers by route pattern', async () => {
    const w = await startApiWorld();
    worlds.push(w);
    const started = await w.call('POST', '/v1/apps/web/deployments', {
      token: TOKENS.deploy,
      body: { version: '1.0.0' },
    });
    expect(started.status).toBe(202);
    const done = await w.call('GET', `/v1/deployments/${started.json.id}?wait=30`, { token: TOKENS.read });
    expect(done.json.state).toBe('succeeded');
    expect((await w.call('GET', '/v1/apps/web', { token: TOKENS.read })).status).toBe(200);
    expect((await w.call('GET', '/v1/apps/no-such-app-x7', { token: TOKENS.read })).status).toBe(404);
    expect((await w.call('GET', '/v1/zzz-probe', { token: TOKENS.read })).status).toBe(404);

    const text = await scrape(w);
    expect(text).toContain('glint_deployments_total{app="web",kind="deploy",result="succeeded"} 1');
    expect(text).toMatch(
      /glint_rollout_duration_seconds_count\{app="web",kind="deploy",result="succeeded"\} 1/,
    );
    expect(text).toContain('glint_instances_ready{app="web"} 2');
    expect(text).toMatch(
      /glint_api_request_duration_seconds_count\{method="GET",route="\/v1\/apps\/:app",status="200"\} 1/,
    );
    expect(text).toMatch(
      /glint_api_request_duration_seconds_count\{method="POST",route="\/v1\/apps\/:app\/deployments",status="202"\} 1/,
    );
    // Paths a client made up never become labels; the long poll is not timed.
    expect(text).not.toMatch(/no-such-app-x7|zzz-probe/);
    expect(text).toMatch(/route="unmatched",status="404"\} 1/);
    expect(text).not.toMatch(/route="\/v1\/deployments\/:id",status="200"/);
  });
});

describe('GET /v1/apps answered again', () => {
  it('sends its last answer while the records version stays, and a new one once it moves', async () => {
    let version = 1;
    const w = await startApiWorld({ recordsVersion: () => version });
    worlds.push(w);
    const running = async () =>
      (await w.call('GET', '/v1/apps', { token: TOKENS.read })).json.apps[0].running?.version ?? null;
    expect(await running()).toBeNull();
    const started = await w.call('POST', '/v1/apps/web/deployments', {
      token: TOKENS.deploy,
      body: { version: '1.0.0' },
    });
    const done = await w.call('GET', `/v1/deployments/${started.json.id}?wait=30`, { token: TOKENS.read });
    expect(done.json.state).toBe('succeeded');
    // The records changed but the version says they did not: the answer is the one sent before.
    expect(await running()).toBeNull();
    version = 2;
    expect(await running()).toBe('1.0.0');
  });
});
