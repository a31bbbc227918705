import { describe, expect, it } from 'vitest';
import type { DeploymentRecord } from '../../../src/etcd/index.ts';
import { GlintMetrics } from '../../../src/metrics/index.ts';

const ended = (patch: Partial<DeploymentRecord>) =>
  ({
    app: 'web',
    kind: 'deploy',
    state: 'succeeded',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:42.000Z',
    finishedAt: '2026-01-01T00:00:42.000Z',
    ...patch,
  }) as DeploymentRecord;

function metrics(leader = true) {
  return new GlintMetrics({
    isLeader: () => leader,
    readyInstances: async () => ({ web: 3, api: 0 }),
    reconcileLag: () => ({ web: 1.5 }),
  });
}

describe('GlintMetrics', () => {
  it('counts ended deployments by app, kind and result, with their duration', async () => {
    const m = metrics();
    m.deploymentEnded(ended({}));
    m.deploymentEnded(ended({ state: 'rolled_back' }));
    m.deploymentEnded(ended({ kind: 'rotate' }));
    const { body } = await m.scrape();
    expect(body).toContain('glint_deployments_total{app="web",kind="deploy",result="succeeded"} 1');
    expect(body).toContain('glint_deployments_total{app="web",kind="deploy",result="rolled_back"} 1');
    expect(body).toContain('glint_deployments_total{app="web",kind="rotate",result="succeeded"} 1');
    expect(body).toContain(
      'glint_rollout_duration_seconds_sum{app="web",kind="deploy",result="succeeded"} 42',
    );
    expect(body).toContain(
      'glint_rollout_duration_seconds_bucket{le="30",app="web",kind="deploy",result="succeeded"} 0',
    );
    expect(body).toContain(
      'glint_rollout_duration_seconds_bucket{le="60",app="web",kind="deploy",result="succeeded"} 1',
    );
  });

  it('reads leadership, ready instances and reconcile lag when scraped', async () => {
    const { body } = await metrics(false).scrape();
    expect(body).toContain('glint_leader 0');
    expect(body).toContain('glint_instances_ready{app="web"} 3');
    expect(body).toContain('glint_instances_ready{app="api"} 0');
    expect(body).toContain('glint_reconcile_lag_seconds{app="web"} 1.5');
    expect(body).toContain('glint_process_resident_memory_bytes');
  });

  it('times API answers by route pattern, never by the path a client sent', async () => {
    const m = metrics();
    m.apiAnswered('GET', '/v1/apps/:app', 200, 0.003);
    const { body, contentType } = await m.scrape();
    expect(contentType).toMatch(/^text\/plain/);
    expect(body).toContain(
      'glint_api_request_duration_seconds_count{method="GET",route="/v1/apps/:app",status="200"} 1',
    );
  });

  it('keeps its counters apart from another instance in the same process', async () => {
    const a = metrics();
    const b = metrics();
    a.deploymentEnded(ended({}));
    expect((await b.scrape()).body).not.toContain('glint_deployments_total{');
  });
});
