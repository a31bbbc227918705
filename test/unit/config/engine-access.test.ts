import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEngineAccess } from '../../../src/config/index.ts';

let dir: string;
const file = (name: string) => join(dir, name);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'engine-access-'));
  for (const name of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(file(name), `-- ${name} --`);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readEngineAccess', () => {
  it('reads the three TLS files of a tcp endpoint', () => {
    const access = readEngineAccess({
      name: 'node-a',
      url: 'tcp://10.0.0.5:2376',
      tls: { ca: file('ca.pem'), cert: file('cert.pem'), key: file('key.pem') },
    });
    expect(access.tls?.ca.toString()).toBe('-- ca.pem --');
    expect(access.tls?.cert.toString()).toBe('-- cert.pem --');
    expect(access.tls?.key.toString()).toBe('-- key.pem --');
  });

  it('names the endpoint, the field and the path of a TLS file it cannot read', () => {
    const read = () =>
      readEngineAccess({
        name: 'node-a',
        url: 'tcp://10.0.0.5:2376',
        tls: { ca: file('ca.pem'), cert: file('cert.pem'), key: file('missing.pem') },
      });
    expect(read).toThrow(
      `cannot read ${file('missing.pem')} (ENOENT), given as tls.key of docker endpoint node-a; fix docker.endpoints[name=node-a].tls.key or put the file there`,
    );
  });

  it("hands an ssh endpoint the agent's socket", () => {
    const access = readEngineAccess(
      { name: 'node-b', url: 'ssh://deploy@10.0.0.6' },
      { SSH_AUTH_SOCK: '/run/agent.sock' },
    );
    expect(access).toEqual({ sshAgent: '/run/agent.sock' });
  });

  it('refuses an ssh endpoint when no agent is there to authenticate', () => {
    expect(() => readEngineAccess({ name: 'node-b', url: 'ssh://deploy@10.0.0.6' }, {})).toThrow(
      /docker endpoint node-b is reached over ssh.*SSH_AUTH_SOCK is not set; start ssh-agent, ssh-add the key of ssh:\/\/deploy@10.0.0.6/,
    );
  });

  it('needs nothing for a socket or a plain endpoint', () => {
    expect(readEngineAccess({ name: 'local', url: undefined }, {})).toEqual({});
    expect(readEngineAccess({ name: 'plain', url: 'http://10.0.0.5:2375' }, {})).toEqual({});
  });
});
