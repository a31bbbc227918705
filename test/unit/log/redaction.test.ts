import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, type Logger } from '../../../src/log/index.ts';

const SECRET = 's3cr3t-Value-9481';

function capture(): { log: Logger; text: () => string } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { log: createLogger({ destination, level: 'debug' }), text: () => lines.join('') };
}

type Row = { name: string; write: (log: Logger) => void; keeps?: string[] };

const rows: Row[] = [
  { name: 'a password at the top level', write: (log) => log.info({ password: SECRET }, 'x') },
  {
    name: "an app spec's env value, two levels down",
    write: (log) => log.info({ spec: { env: { DB_PASSWORD: SECRET, PORT: '8080' } } }, 'x'),
    keeps: ['DB_PASSWORD', 'PORT'],
  },
  {
    name: 'an env value whose name says nothing secret',
    write: (log) => log.info({ spec: { env: { GREETING: SECRET } } }, 'x'),
    keeps: ['GREETING'],
  },
  {
    name: "Docker's Env list inside create options, in an array",
    write: (log) => log.info({ options: { Config: { Env: [`API_KEY=${SECRET}`, 'TZ'] } } }, 'x'),
    keeps: ['API_KEY=', 'TZ'],
  },
  {
    name: 'a token four levels down',
    write: (log) => log.info({ a: { b: { c: { token: SECRET } } } }, 'x'),
  },
  {
    name: 'registry credentials inside an array of registries',
    write: (log) =>
      log.info(
        { registries: [{ host: '127.0.0.1:5000', credentials: { username: 'ci', password: SECRET } }] },
        'x',
      ),
    keeps: ['127.0.0.1:5000'],
  },
  {
    name: 'an Authorization header in any case',
    write: (log) => log.info({ req: { headers: { Authorization: `Bearer ${SECRET}` } } }, 'x'),
  },
  {
    name: 'an X-Registry-Auth header',
    write: (log) => log.debug({ headers: { 'X-Registry-Auth': SECRET } }, 'x'),
  },
  {
    name: "an error's message naming the secret",
    write: (log) => log.error({ err: new Error(`login failed with password=${SECRET}`) }, 'x'),
    keeps: ['login failed with password='],
  },
  {
    name: 'an error passed as the first argument',
    write: (log) => log.error(new Error(`rejected Authorization: Bearer ${SECRET}`)),
    keeps: ['rejected'],
  },
  {
    name: "an error's cause",
    write: (log) =>
      log.error({ err: new Error('pull failed', { cause: new Error(`token=${SECRET}`) }) }, 'x'),
    keeps: ['pull failed'],
  },
  {
    name: 'a property an error carries',
    write: (log) =>
      log.error({ err: Object.assign(new Error('boom'), { authconfig: { password: SECRET } }) }, 'x'),
  },
  {
    name: 'a URL with a password in it',
    write: (log) => log.info({ endpoint: `http://glint:${SECRET}@127.0.0.1:2379` }, 'x'),
    keeps: ['http://glint:', '@127.0.0.1:2379'],
  },
  {
    name: 'the message text itself',
    write: (log) => log.info(`connecting with api_key=${SECRET}`),
    keeps: ['connecting with api_key='],
  },
  {
    name: "a child logger's bindings",
    write: (log) => log.child({ registry: { auth: { password: SECRET } } }).info('x'),
  },
];

describe('log lines never carry secrets', () => {
  it.each(rows)('redacts $name', (row) => {
    const { log, text } = capture();
    row.write(log);
    const out = text();
    expect(out).toContain('[redacted]');
    expect(out).not.toContain(SECRET);
    for (const kept of row.keeps ?? []) expect(out).toContain(kept);
  });

  it('keeps ordinary fields, numbers and the message as they are', () => {
    const { log, text } = capture();
    log.info({ app: 'web', instances: 3, containerId: 'abc123', author: 'ann' }, 'rolled out');
    const line = JSON.parse(text());
    expect(line).toMatchObject({
      app: 'web',
      instances: 3,
      containerId: 'abc123',
      author: 'ann',
      msg: 'rolled out',
    });
  });

  it('survives a cycle in the logged object', () => {
    const { log, text } = capture();
    const node: Record<string, unknown> = { name: 'loop', password: SECRET };
    node.self = node;
    log.info({ node }, 'x');
    expect(text()).not.toContain(SECRET);
    expect(text()).toContain('loop');
  });
});
