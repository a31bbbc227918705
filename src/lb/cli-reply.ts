import { GlintError } from '../errors/index.ts';

/** Severity levels HAProxy prints with `set severity-output number` (syslog numbering). */
const ERROR_SEVERITY_MAX = 3;
const SEVERITY_LINE = /^\[(\d)\]: (.*)$/;

export type CliMessage = { severity: number; text: string };

/** Extracts the `[n]: text` messages from a CLI answer, in order. */
export function parseCliMessages(output: string): CliMessage[] {
  const messages: CliMessage[] = [];
  for (const line of output.split('\n')) {
    const match = SEVERITY_LINE.exec(line.trim());
    if (match) messages.push({ severity: Number(match[1]), text: match[2]!.trim() });
  }
  return messages;
}

/**
 * Throws `LbCommandFailed` when HAProxy answered `command` with an error-level message, and
 * returns the output otherwise. Needs the `set severity-output number;` prefix on the command.
 */
export function assertCliSuccess(command: string, output: string): string {
  const errors = parseCliMessages(output).filter((m) => m.severity <= ERROR_SEVERITY_MAX);
  if (errors.length > 0) {
    const reason = errors.map((m) => m.text).join(' ');
    throw new GlintError('LbCommandFailed', `HAProxy refused "${command}": ${reason}`, {
      details: { command, reason },
    });
  }
  if (/^Unknown command/m.test(output)) {
    throw new GlintError('LbCommandFailed', `HAProxy does not know the command "${command}"`, {
      details: { command },
    });
  }
  return output;
}
