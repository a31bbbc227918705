import { describe, expect, it } from 'vitest';
import type { EngineAccess } from '../../src/config/index.ts';
import { engineConnectionOf } from '../../src/rollout-wiring.ts';

const tls = { ca: Buffer.from('ca'), cert: Buffer.from('cert'), key: Buffer.from('key') };

type Row = {
  name: string;
  endpoint: { url?: string; socketPath?: string; insecure?: boolean };
  access?: EngineAccess;
  want: object;
};

const rows: Row[] = [
  { name: 'no url: the default socket', endpoint: {}, want: { socketPath: '/var/run/docker.sock' } },
  {
    name: 'a declared socket',
    endpoint: { socketPath: '/run/docker-b.sock' },
    want: { socketPath: '/run/docker-b.sock' },
  },
  {
    name: 'tcp with tls: mutual TLS on the given port',
    endpoint: { url: 'tcp://10.0.0.5:2376' },
    access: { tls },
    want: { protocol: 'https', host: '10.0.0.5', port: 2376, ...tls },
  },
  {
    name: 'https with tls and no port: 2376',
    endpoint: { url: 'https://docker-a.example.com' },
    access: { tls },
    want: { protocol: 'https', host: 'docker-a.example.com', port: 2376, ...tls },
  },
  {
    name: 'tcp declared insecure: plain HTTP',
    endpoint: { url: 'tcp://10.0.0.5:2375', insecure: true },
    want: { protocol: 'http', host: '10.0.0.5', port: 2375 },
  },
  {
    name: 'https declared insecure: TLS without a client certificate',
    endpoint: { url: 'https://10.0.0.5:2376', insecure: true },
    want: { protocol: 'https', host: '10.0.0.5', port: 2376 },
  },
  {
    name: 'http: plain, 2375 when no port is given',
    endpoint: { url: 'http://10.0.0.5' },
    want: { protocol: 'http', host: '10.0.0.5', port: 2375 },
  },
  {
    name: 'ssh: the user, port 22 and the agent',
    endpoint: { url: 'ssh://deploy@10.0.0.6' },
    access: { sshAgent: '/run/agent.sock' },
    want: { protocol: 'ssh', host: '10.0.0.6', port: 22, username: 'deploy', sshAgent: '/run/agent.sock' },
  },
  {
    name: 'ssh on another port, to an IPv6 host',
    endpoint: { url: 'ssh://deploy@[fd00::6]:2222' },
    access: { sshAgent: '/run/agent.sock' },
    want: { protocol: 'ssh', host: 'fd00::6', port: 2222, username: 'deploy', sshAgent: '/run/agent.sock' },
  },
];

describe('engineConnectionOf', () => {
  it.each(rows)('$name', (row) => {
    expect(engineConnectionOf({ name: 'node', ...row.endpoint }, row.access ?? {})).toEqual(row.want);
  });
});
