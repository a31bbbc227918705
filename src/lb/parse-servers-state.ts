import { TransientError } from '../errors/index.ts';
import { LbErrorCode } from './error-codes.ts';
import type { LbServer, ServerState } from './lb-model.ts';

// srv_admin_state flags (HAProxy 2.6 server.h): forced, inherited, config, resolution and
// health maintenance; forced and inherited drain.
const MAINT_FLAGS = 0x01 | 0x02 | 0x04 | 0x20 | 0x40;
const DRAIN_FLAGS = 0x08 | 0x10;

export type ObservedServer = LbServer & { backend: string };

/**
 * Reads `show servers state` (the server-state file format, version 1) into servers with
 * their admin state: what a restarted glint adopts from a HAProxy that kept running. Pure.
 * HAProxy always prints the version and header lines and whole rows, so anything less was cut
 * short: it throws rather than say "no servers" and have the caller forget live ones.
 */
export function parseServersState(text: string): ObservedServer[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const header = lines.find((l) => l.startsWith('# be_id'));
  if (lines[0]?.trim() !== '1' || !header) throw incomplete(text, 'without its version and header lines');
  const columns = header.slice(2).split(' ');
  const at = (cells: string[], name: string) => cells[columns.indexOf(name)] ?? '';
  return lines
    .filter((l) => !l.startsWith('#') && l.trim() !== '1')
    .map((line) => {
      const cells = line.trim().split(' ');
      if (cells.length < columns.length) throw incomplete(text, `with a cut row "${line}"`);
      const admin = Number(at(cells, 'srv_admin_state'));
      return {
        backend: at(cells, 'be_name'),
        name: at(cells, 'srv_name'),
        address: at(cells, 'srv_addr'),
        port: Number(at(cells, 'srv_port')),
        id: Number(at(cells, 'srv_id')),
        state: adminState(admin),
      };
    });
}

function adminState(flags: number): ServerState {
  if (flags & MAINT_FLAGS) return 'maint';
  if (flags & DRAIN_FLAGS) return 'drain';
  return 'ready';
}

function incomplete(text: string, what: string): TransientError {
  return new TransientError(
    LbErrorCode.UnexpectedAnswer,
    `HAProxy answered "show servers state" ${what}: ${JSON.stringify(text.slice(0, 200))}`,
  );
}
