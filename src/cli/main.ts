import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { configCheckCommand } from './config-check-command.ts';
import { configRunDirCommand } from './config-run-dir-command.ts';
import { daemonCommand } from './daemon-command.ts';
import { ExitCode } from './exit-codes.ts';
import { addRemoteCommands } from './remote-commands.ts';

/** Builds the `glint` command line; returns the exit code instead of exiting, for tests. */
export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const program = new Command('glint')
    .description('Keeps containerised apps running as immutable instances on Docker engines')
    .showHelpAfterError()
    // Subcommands made after this inherit it: a wrong command line exits 2, not 1.
    .exitOverride();

  const config = program.command('config').description('work with the declaration (scheduler.config.ts)');
  config
    .command('check')
    .argument('[file]', 'declaration to check', 'scheduler.config.ts')
    .description('validate a declaration and print every problem with its field path')
    .action(async (file: string) => {
      exitCode = await configCheckCommand(file);
    });
  config
    .command('run-dir')
    .argument('[file]', 'declaration to read', 'scheduler.config.ts')
    .description("print the HAProxy run folder the declaration resolves to (the stack's scripts use it)")
    .action(async (file: string) => {
      exitCode = await configRunDirCommand(file);
    });

  program
    .command('daemon')
    .description('run the glint daemon in the foreground')
    .option('-c, --config <file>', 'declaration file', 'scheduler.config.ts')
    .action(async (opts: { config: string }) => {
      exitCode = await daemonCommand(opts.config);
    });

  // Where the daemon's API is and the token to call it with: GLINT_URL and GLINT_TOKEN, else
  // the local daemon's default address and the admin token file it writes in this folder.
  addRemoteCommands(
    program,
    {
      url: process.env.GLINT_URL || 'http://127.0.0.1:7070',
      token: process.env.GLINT_TOKEN || (await localAdminToken()),
      out: process.stdout,
      err: process.stderr,
    },
    (code) => {
      exitCode = code;
    },
  );

  try {
    await program.parseAsync(argv);
  } catch (err) {
    // commander has already printed what was wrong with the command line (or the help).
    const code = (err as { code?: string; exitCode?: number }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version') return ExitCode.Ok;
    if (code?.startsWith('commander.')) return ExitCode.Usage;
    throw err;
  }
  return exitCode;
}

/** The admin token a daemon started from this folder wrote (mode 600), if there is one. */
async function localAdminToken(): Promise<string | undefined> {
  const text = await readFile('.glint/api-token', 'utf8').catch(() => undefined);
  return text?.trim() || undefined;
}
