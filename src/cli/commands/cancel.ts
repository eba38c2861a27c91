/**
 * `bodywork-deploy cancel [DIR]`: stops the project's in-cluster runner (`deploy --runner cluster`, or a scheduled
 * run): its Job is deleted (Foreground), the engine in it gets SIGTERM and cancels as on Ctrl-C (stage Jobs deleted,
 * rollouts undone, the deploy lock released), and this waits until it is gone. Exit 0 when a run was cancelled or
 * none was running; 1 when the runner could not be stopped in time.
 */
import type { Command } from 'commander';
import { type ClusterFlags, outputOption, withClusterOptions, projectOnCluster } from '../cluster.js';
import { CliExit, type CliIo, EXIT_FAILURE, oneLine, printJson } from '../io.js';
import { loadRunner, errorMessage } from '../../engine/index.js';

interface CancelFlags extends ClusterFlags {
  namespace?: string;
  verbose?: boolean;
  output: 'text' | 'json';
}

export function registerCancel(program: Command, io: CliIo): void {
  const command = program
    .command('cancel')
    .description("stop the project's in-cluster runner (deploy --runner cluster, or a scheduled run): its stage Jobs are deleted, rollouts undone, the lock released")
    .argument('[dir]', 'project directory', '.');
  withClusterOptions(command)
    .addOption(outputOption())
    .action(async (dir: string, flags: CancelFlags) => {
      const { logger, spec, plan, client } = await projectOnCluster(dir, flags, io);
      const { cancelRunner } = await loadRunner();
      let result;
      try {
        result = await cancelRunner({ client, logger, namespace: plan.namespace, project: spec.name });
      } catch (error) {
        throw new CliExit(EXIT_FAILURE, oneLine(`error: could not cancel the runner in namespace=${plan.namespace}: ${errorMessage(error)}`));
      }
      if (flags.output === 'json') printJson(io, result);
      const say = (line: string) => (flags.output === 'json' ? io.stderr : io.stdout)(`${oneLine(line)}\n`);
      if (result.cancelled.length === 0) say(`no in-cluster runner of ${spec.name} is running in namespace ${plan.namespace}${result.status ? ` (the last run, Job ${result.status.job}, ${result.status.phase})` : ''}`);
      else say(`cancelled the in-cluster runner ${result.cancelled.join(', ')} in namespace ${plan.namespace}${result.status ? `: run ${result.status.phase}${result.status.reason ? ` (${result.status.reason})` : ''}` : ''}`);
      if (result.lockHolder !== undefined) say(`the deploy lock is still held by ${result.lockHolder}: it expires by itself within a minute`);
    });
}
