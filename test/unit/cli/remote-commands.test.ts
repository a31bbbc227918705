import { describe, expect, it } from 'vitest';
import { appTable, deployTarget, eventLine } from '../../../src/cli/remote-commands.ts';
import { SseParser } from '../../../src/cli/sse-parser.ts';

describe('deployTarget', () => {
  const digest = `sha256:${'a'.repeat(64)}`;
  it.each([
    { arg: '1.2.0', body: { version: '1.2.0' } },
    { arg: 'latest', body: { version: 'latest' } },
    { arg: digest, body: { digest } },
    { arg: '127.0.0.1:5000/demo-app:1.2.0', body: { image: '127.0.0.1:5000/demo-app:1.2.0' } },
    // Not a whole digest: left to the API to refuse with its reason.
    { arg: 'sha256:abc', body: { version: 'sha256:abc' } },
  ])('$arg', ({ arg, body }) => {
    expect(deployTarget(arg)).toEqual(body);
  });
});

describe('SseParser', () => {
  it('splits events cut anywhere across chunks, skipping comments and retry', () => {
    const stream =
      'retry: 3000\n\nid: 7\nevent: step:started\ndata: {"a":1}\n\n: keep-alive\n\nid: 8\nevent: deployment:finished\ndata: {"b":2}\n\n';
    for (const cut of [1, 5, 17, 30, stream.length - 1]) {
      const parser = new SseParser();
      const events = [...parser.push(stream.slice(0, cut)), ...parser.push(stream.slice(cut))];
      expect(events).toEqual([
        { id: '7', type: 'step:started', data: '{"a":1}' },
        { id: '8', type: 'deployment:finished', data: '{"b":2}' },
      ]);
    }
  });

  it('reads CRLF line ends and events without an id', () => {
    expect(new SseParser().push('event: stream:gap\r\ndata: {"message":"x"}\r\n\r\n')).toEqual([
      { type: 'stream:gap', data: '{"message":"x"}' },
    ]);
  });
});

describe('eventLine', () => {
  it.each([
    {
      type: 'deployment:finished',
      data: { app: 'web', id: 'd1', kind: 'deploy', state: 'succeeded' },
      line: 'deployment:finished web d1 deploy succeeded',
    },
    {
      type: 'step:failed',
      data: { app: 'web', deploymentId: 'd1', kind: 'start', instance: 'a1', message: 'status 503' },
      line: 'step:failed web d1 start a1: status 503',
    },
    {
      type: 'config:changed',
      data: {
        app: 'web',
        revision: 42,
        keys: ['config/web/GREETING', 'secrets/web/TOKEN'],
        outcome: 'started',
        deploymentId: 'd1',
        message: 'the env changed',
      },
      line: 'config:changed web started d1 at revision 42: config/web/GREETING, secrets/web/TOKEN',
    },
    {
      type: 'config:changed',
      data: { app: 'web', revision: 7, keys: [], outcome: 'queued', message: 'd0 is active' },
      line: 'config:changed web queued (d0 is active) at revision 7: no key named',
    },
    {
      type: 'stream:gap',
      data: { message: 'events were missed' },
      line: 'stream:gap {"message":"events were missed"}',
    },
  ])('$type', ({ type, data, line }) => {
    expect(eventLine(type, JSON.stringify(data))).toBe(line);
  });
});

describe('appTable', () => {
  it('aligns columns to the widest cell and shows what is missing as -', () => {
    const text = appTable([
      {
        name: 'web',
        declared: { version: '1.1.0', instances: 3 },
        running: { version: '1.0.0' },
        instances: { wanted: 3, ready: 2 },
        activeDeployment: { id: 'd1', kind: 'deploy', state: 'running' },
      },
      {
        name: 'api-gateway',
        declared: { version: '2.0.0', instances: 1 },
        running: null,
        instances: { wanted: 1, ready: 0 },
        activeDeployment: null,
      },
    ]);
    expect(text).toBe(
      [
        'APP          DECLARED  RUNNING  READY  DEPLOYMENT',
        'web          1.1.0     1.0.0    2/3    deploy d1 running',
        'api-gateway  2.0.0     -        0/1    -',
        '',
      ].join('\n'),
    );
  });
});
