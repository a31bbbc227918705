import { describe, expect, it } from 'vitest';
import { EventCursor } from '../../../src/docker/engine-event.ts';
import { toEngineEvent } from '../../../src/docker/index.ts';
import { JsonLineSplitter } from '../../../src/docker/json-lines.ts';

const attrs = { name: 'glint-web-a1', 'glint.app': 'web', 'glint.instance': 'a1', 'glint.managed': 'true' };
const raw = (Action: string, extra: Record<string, string> = {}) => ({
  Type: 'container',
  Action,
  Actor: { ID: 'c0ffee', Attributes: { ...attrs, ...extra } },
  time: 1_767_225_600,
  timeNano: 1_767_225_600_123_000_000,
});

describe('toEngineEvent', () => {
  it.each([
    { action: 'start', want: { kind: 'start' } },
    { action: 'die', extra: { exitCode: '137' }, want: { kind: 'die', exitCode: 137 } },
    { action: 'oom', want: { kind: 'oom' } },
    { action: 'destroy', want: { kind: 'destroy' } },
    { action: 'health_status: unhealthy', want: { kind: 'health', health: 'unhealthy' } },
    { action: 'health_status: healthy', want: { kind: 'health', health: 'healthy' } },
  ])('maps $action', ({ action, extra, want }) => {
    expect(toEngineEvent(raw(action, extra))).toEqual({
      containerId: 'c0ffee',
      name: 'glint-web-a1',
      app: 'web',
      instance: 'a1',
      at: 1_767_225_600_123,
      ...want,
    });
  });

  it.each(['exec_create: sh', 'attach', 'kill'])('ignores %s', (action) => {
    expect(toEngineEvent(raw(action))).toBeUndefined();
  });

  it('ignores events of other object types', () => {
    expect(toEngineEvent({ ...raw('start'), Type: 'network' })).toBeUndefined();
  });
});

describe('JsonLineSplitter', () => {
  it('joins an object split across chunks and splits chunks holding several', () => {
    const splitter = new JsonLineSplitter();
    const text = '{"a":1}\n{"b":2}\n{"c":';
    expect(splitter.push(Buffer.from(text))).toEqual([{ a: 1 }, { b: 2 }]);
    expect(splitter.push(Buffer.from('3}\n'))).toEqual([{ c: 3 }]);
  });

  it('keeps a multi-byte character split between chunks intact', () => {
    const bytes = Buffer.from('{"s":"é"}\n');
    const splitter = new JsonLineSplitter();
    expect(splitter.push(bytes.subarray(0, 7))).toEqual([]);
    expect(splitter.push(bytes.subarray(7))).toEqual([{ s: 'é' }]);
  });

  it('reports a bad line and goes on', () => {
    const bad: string[] = [];
    expect(new JsonLineSplitter().push('nope\n{"ok":true}\n', (l) => bad.push(l))).toEqual([{ ok: true }]);
    expect(bad).toEqual(['nope']);
  });

  it('returns the last object when the stream ends without a newline', () => {
    const splitter = new JsonLineSplitter();
    splitter.push('{"x":1}');
    expect(splitter.end()).toEqual([{ x: 1 }]);
  });
});

describe('EventCursor', () => {
  const at = (time: number, id: string, Action = 'start') => ({
    Type: 'container',
    Action,
    id,
    Actor: { ID: id },
    time,
    timeNano: time * 1e9,
  });

  it('drops the replay of the resumed second but keeps what is new in it', () => {
    const cursor = new EventCursor(100);
    expect(cursor.accept(at(100, 'a'))).toBe(true);
    expect(cursor.accept(at(100, 'a'))).toBe(false);
    expect(cursor.accept(at(100, 'a', 'die'))).toBe(true);
    expect(cursor.accept(at(101, 'b'))).toBe(true);
    expect(cursor.sinceSec).toBe(101);
    expect(cursor.accept(at(101, 'b'))).toBe(false);
  });

  it('drops events from before the cursor', () => {
    const cursor = new EventCursor(100);
    expect(cursor.accept(at(99, 'a'))).toBe(false);
  });
});
