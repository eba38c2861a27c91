/**
 * The `bodywork-deploy` command line: a thin shell over the engine. Each subcommand lives in
 * `commands/<name>.ts` and registers itself here. Exit codes: 0 success, 1 failure, 2 usage or project problems.
 */
import { Command, CommanderError } from 'commander';
import { registerCancel } from './commands/cancel.js';
import { registerDeploy } from './commands/deploy.js';
import { registerPlan } from './commands/plan.js';
import { registerSandbox } from './commands/sandbox.js';
import { registerSchedule } from './commands/schedule.js';
import { registerSecret } from './commands/secret.js';
import { registerStatus } from './commands/status.js';
import { registerTeardown } from './commands/teardown.js';
import { registerValidate } from './commands/validate.js';
import { CliExit, type CliIo, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './io.js';
import { VERSION } from './version.js';
import { errorMessage } from '../engine/index.js';

/** Builds the program; output goes through `io`, and commander never exits the process itself. */
export function createProgram(io: CliIo): Command {
  const program = new Command('bodywork-deploy')
    .description('Deploy Bodywork ML projects (batch stages as Jobs, service stages as Deployments) to Kubernetes.')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'print help')
    .helpCommand('help [command]', 'print help for a command')
    // Inherited by the subcommands created below.
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  registerValidate(program, io);
  registerPlan(program, io);
  registerDeploy(program, io);
  registerStatus(program, io);
  registerCancel(program, io);
  registerSchedule(program, io);
  registerTeardown(program, io);
  registerSecret(program, io);
  registerSandbox(program, io);
  pointToHelp(program, 'bodywork-deploy');
  return program;
}

/** A usage error names the help of the command it was made in (`bodywork-deploy secret create --help`), not only the top one. */
function pointToHelp(command: Command, path: string): void {
  command.showHelpAfterError(`(run ${path} --help for usage)`);
  for (const sub of command.commands) pointToHelp(sub, `${path} ${sub.name()}`);
}

/** Runs the command line `args` (without node and script) and resolves to the exit code. */
export async function run(args: string[], io: CliIo): Promise<number> {
  const program = createProgram(io);
  try {
    await program.parseAsync(args, { from: 'user' });
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CliExit) {
      if (error.message !== '') io.stderr(`${error.message}\n`);
      return error.code;
    }
    if (error instanceof CommanderError) {
      // --help and --version end with 0; every parse error (and a missing command) is a usage error.
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    io.stderr(`error: ${errorMessage(error)}\n`);
    return EXIT_FAILURE;
  }
}
