import { describe, expect, it } from 'vitest';
import { describeConfigRejection } from '../../../src/lb/describe-config-rejection.ts';

const CONFIG = ['global', '  master-worker', '', 'frontend fe_web', '  bind nohost.invalid:80', ''].join(
  '\n',
);
const appOf = (section: string) => (section === 'fe_web' ? 'web' : undefined);

describe('describeConfigRejection', () => {
  it('names the app whose section holds the line HAProxy rejected, with its reason', () => {
    const output = [
      '[NOTICE]   (1) : haproxy version is 2.6.12',
      "[ALERT]    (1) : config : parsing [/run/haproxy.cfg.next:5] : 'bind nohost.invalid:80' : could not resolve address 'nohost.invalid'.",
      '[ALERT]    (1) : config : Error(s) found in configuration file : /run/haproxy.cfg.next',
      '[ALERT]    (1) : config : Fatal errors found in configuration.',
    ].join('\n');
    expect(describeConfigRejection(CONFIG, output, appOf)).toEqual({
      app: 'web',
      reason:
        "config : parsing [/run/haproxy.cfg.next:5] : 'bind nohost.invalid:80' : could not resolve address 'nohost.invalid'.",
    });
  });

  it('names no app when the line is in the global section', () => {
    const output = '[ALERT]    (1) : config : parsing [/x:2] : unknown keyword';
    expect(describeConfigRejection(CONFIG, output, appOf)).toEqual({
      reason: 'config : parsing [/x:2] : unknown keyword',
    });
  });

  it('falls back to the whole output when HAProxy printed no alert', () => {
    expect(describeConfigRejection(CONFIG, 'something odd\n', appOf)).toEqual({ reason: 'something odd' });
  });
});
