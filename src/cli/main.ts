import { Command } from 'commander';
import { configCheckCommand } from './config-check-command.ts';
import { configRunDirCommand } from './config-run-dir-command.ts';
import { daemonCommand } from './daemon-command.ts';

/** Builds the `glint` command line; returns the exit code instead of exiting, for tests. */
export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const program = new Command('glint')
    .description('Keeps containerised apps running as immutable instances on Docker engines')
    .showHelpAfterError();

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

  await program.parseAsync(argv);
  return exitCode;
}
