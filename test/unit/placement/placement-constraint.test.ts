import { describe, expect, it } from 'vitest';
import { constraintMismatch, parseConstraint } from '../../../src/placement/index.ts';

describe('parseConstraint', () => {
  it.each([
    { text: 'zone=eu-1', want: { key: 'zone', op: '=', value: 'eu-1' } },
    { text: 'disk!=hdd', want: { key: 'disk', op: '!=', value: 'hdd' } },
    { text: 'com.example/rack=r1', want: { key: 'com.example/rack', op: '=', value: 'r1' } },
    { text: 'url=a=b', want: { key: 'url', op: '=', value: 'a=b' } },
    { text: 'zone==eu-1', want: undefined },
    { text: 'zone=', want: undefined },
    { text: '=eu-1', want: undefined },
    { text: 'zone = eu-1', want: undefined },
    { text: 'zone~eu', want: undefined },
  ])('$text', ({ text, want }) => {
    expect(parseConstraint(text)).toEqual(want);
  });
});

describe('constraintMismatch', () => {
  const engine = { name: 'node-a', labels: { zone: 'eu-1' } };
  it.each([
    { text: 'zone=eu-1', want: undefined },
    { text: 'zone=eu-2', want: 'has zone=eu-1, not zone=eu-2' },
    { text: 'disk=ssd', want: 'has no label disk=ssd' },
    { text: 'zone!=eu-2', want: undefined },
    { text: 'disk!=hdd', want: undefined },
    { text: 'zone!=eu-1', want: 'has zone=eu-1 (the app needs zone!=eu-1)' },
    { text: 'name=node-a', want: undefined },
    { text: 'name!=node-a', want: 'has name=node-a (the app needs name!=node-a)' },
    { text: 'constructor=x', want: 'has no label constructor=x' },
  ])('$text on zone=eu-1', ({ text, want }) => {
    expect(constraintMismatch(engine, parseConstraint(text)!)).toBe(want);
  });
});
