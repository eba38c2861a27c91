/**
 * `bodywork-deploy teardown [DIR]`: removes a deployed project through the engine's `teardownProject`. A namespace
 * labelled as this project's (we created it) is deleted whole, waiting until it is gone; in any other namespace only
 * the objects carrying the project's labels are deleted (Background propagation: their pods and ReplicaSets go with
 * them).
 */
import type { Command } from 'commander';
import { type ClusterFlags, withClusterOptions, projectOnCluster } from '../cluster.js';
import { CliExit, type CliIo, EXIT_FAILURE, plural } from '../io.js';
import { loadTeardown, errorMessage } from '../../engine/index.js';

interface TeardownFlags extends ClusterFlags {
  namespace?: string;
  verbose?: boolean;
}

export function registerTeardown(program: Command, io: CliIo): void {
  const command = program
    .command('teardown')
    .description("delete the project from the cluster: its namespace if this tool created it, else every object with the project's labels")
    .argument('[dir]', 'project directory', '.');
  withClusterOptions(command).action(async (dir: string, flags: TeardownFlags) => {
      const { logger, plan, client } = await projectOnCluster(dir, flags, io);
      const { teardownProject } = await loadTeardown();
      const ns = plan.namespace;
      try {
        const r = await teardownProject({ client, logger, project: plan.project, namespace: ns });
        if (r.outcome === 'namespace-deleted') io.stdout(`deleted namespace=${ns}\n`);
        else if (r.outcome === 'objects-deleted') {
          io.stdout(`namespace=${ns} is not managed by bodywork-deploy for ${plan.project}: deleted ${plural(r.deleted.length, 'object')} of the project, kept the namespace\n`);
        }
      } catch (error) {
        if (error instanceof CliExit) throw error;
        throw new CliExit(EXIT_FAILURE, `error: ${errorMessage(error)}`);
      }
    });
}
