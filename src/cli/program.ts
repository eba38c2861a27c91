/**
 * The `bodywork-deploy` command line: a thin shell over the engine. Each subcommand lives in
 * `commands/<name>.ts` and registers itself here. Exit codes: 0 success, 1 failure, 2 usage or project problems.
 *
 * The subcommands' modules are loaded with import(), so esbuild puts each in a chunk of its own (scripts/build.mjs):
 * a command line that names a subcommand loads that one alone (`validate` does not parse `deploy`'s code or the
 * engine parts only `deploy` uses), `--version` none, and any other (`--help`, `help deploy`, a typo to suggest
 * for) all of them.
 */
import { Command, CommanderError } from 'commander';
import { CliExit, type CliIo, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './io.js';
import { VERSION } from './version.js';
import { errorMessage } from '../engine/base.js';

type Register = (program: Command, io: CliIo) => void;

/** Each subcommand's name (as it registers itself) and its module's register function, in the order help lists them. */
const COMMANDS: Record<string, () => Promise<Register>> = {
  validate: async () => (await import('./commands/validate.js')).registerValidate,
  plan: async () => (await import('./commands/plan.js')).registerPlan,
  deploy: async () => (await import('./commands/deploy.js')).registerDeploy,
  status: async () => (await import('./commands/status.js')).registerStatus,
  cancel: async () => (await import('./commands/cancel.js')).registerCancel,
  schedule: async () => (await import('./commands/schedule.js')).registerSchedule,
  teardown: async () => (await import('./commands/teardown.js')).registerTeardown,
  secret: async () => (await import('./commands/secret.js')).registerSecret,
  sandbox: async () => (await import('./commands/sandbox.js')).registerSandbox,
};

/**
 * The subcommands that run for long and stream stage logs, whose process the heap bounds keep flat (engine/heap.ts);
 * the others print and exit before they would matter.
 */
const LONG_RUNNING = new Set(['deploy', 'sandbox']);

/** Whether `args` runs a long-running subcommand (LONG_RUNNING). */
export function runsLong(args: string[]): boolean {
  const names = commandsFor(args);
  return names.length === 1 && LONG_RUNNING.has(names[0]!);
}

/** The subcommands `args` needs: the one it starts with, none to print the version, else all of them. */
export function commandsFor(args: string[]): string[] {
  const first = args[0];
  if (first !== undefined && Object.hasOwn(COMMANDS, first)) return [first];
  return first === '-V' || first === '--version' ? [] : Object.keys(COMMANDS);
}

/**
 * Builds the program with the subcommands `names` (all by default); output goes through `io`, and commander never
 * exits the process itself.
 */
export async function createProgram(io: CliIo, names: string[] = Object.keys(COMMANDS)): Promise<Command> {
  const registers = await Promise.all(names.map((name) => COMMANDS[name]!()));
  const program = new Command('bodywork-deploy')
    .description('Deploy Bodywork ML projects (batch stages as Jobs, service stages as Deployments) to Kubernetes.')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'print help')
    .helpCommand('help [command]', 'print help for a command')
    // Inherited by the subcommands created below.
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  for (const register of registers) register(program, io);
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
  const program = await createProgram(io, commandsFor(args));
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
