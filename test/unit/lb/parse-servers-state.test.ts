import { describe, expect, it } from 'vitest';
import { parseServersState } from '../../../src/lb/parse-servers-state.ts';

// `show servers state` from HAProxy 2.6.12: s1 up, s2 disabled in the file and forced to
// maint, s3 added at runtime and drained.
const STATE = `1
# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port
4 be_a 7 s1 127.0.0.1 2 0 1 1 29 15 3 3 6 0 0 1 - 19001 - 0 0 - - 0
4 be_a 9 s2 127.0.0.1 0 5 1 1 32 1 0 0 14 0 0 1 - 19002 - 0 0 - - 0
4 be_a 12 s3 127.0.0.1 2 8 1 1 5 15 3 3 6 0 0 1 - 19003 - 0 0 - - 0
`;

describe('parseServersState', () => {
  it('reads each server with its address, id and admin state', () => {
    expect(parseServersState(STATE)).toEqual([
      { backend: 'be_a', name: 's1', address: '127.0.0.1', port: 19001, id: 7, state: 'ready' },
      { backend: 'be_a', name: 's2', address: '127.0.0.1', port: 19002, id: 9, state: 'maint' },
      { backend: 'be_a', name: 's3', address: '127.0.0.1', port: 19003, id: 12, state: 'drain' },
    ]);
  });

  it('reads a backend without servers as no servers', () => {
    expect(parseServersState(STATE.split('\n').slice(0, 2).join('\n'))).toEqual([]);
  });

  it('refuses an answer cut before its header or inside a row rather than report fewer servers', () => {
    const refused = expect.objectContaining({ name: 'TransientError', code: 'LbUnexpectedAnswer' });
    expect(() => parseServersState('1\n')).toThrow(refused);
    expect(() => parseServersState('')).toThrow(refused);
    expect(() => parseServersState(STATE.slice(0, STATE.indexOf('s3') + 5))).toThrow(refused);
  });
});
