/** `bodywork-deploy status [DIR]`: what of the project runs in the cluster: services with ready replicas and URLs, and the last Job of each batch stage. */
import type { Command } from 'commander';
import type { V1Deployment, V1Job } from '@kubernetes/client-node';
import { LABEL_STAGE } from '../../engine/plan/index.js';
import { type ClusterFlags, clientFromFlags, withClusterOptions, planOrExit, renderTable } from '../cluster.js';
import { CliExit, type CliIo, EXIT_FAILURE, stderrLogger } from '../io.js';
import { loadProjectOrExit } from '../project.js';

interface StatusFlags extends ClusterFlags {
  namespace?: string;
  verbose?: boolean;
}

export function registerStatus(program: Command, io: CliIo): void {
  const command = program
    .command('status')
    .description("show the project's services (ready replicas, URLs) and the last run of each batch stage (exit 1 when the namespace does not exist)")
    .argument('[dir]', 'project directory', '.');
  withClusterOptions(command).action(async (dir: string, flags: StatusFlags) => {
      const logger = stderrLogger(io, flags.verbose === true);
      const spec = await loadProjectOrExit(dir, io);
      const plan = await planOrExit(spec, flags.namespace !== undefined ? { namespace: flags.namespace } : {}, false);
      const client = await clientFromFlags(flags, logger);
      const { jobOutcome } = await import('../../engine/deploy/batch-stage.js');
      const ns = plan.namespace;
      try {
        if (!(await client.exists('Namespace', undefined, ns))) throw new CliExit(EXIT_FAILURE, `namespace=${ns} does not exist: ${plan.project} is not deployed`);
        const selector = Object.entries(plan.labels)
          .map(([k, v]) => `${k}=${v}`)
          .join(',');
        const [deployments, jobs] = await Promise.all([
          client.list<V1Deployment>('Deployment', ns, { labelSelector: selector }),
          client.list<V1Job>('Job', ns, { labelSelector: selector }),
        ]);
        const rows = [['STAGE', 'TYPE', 'STATUS', 'READY', 'URL']];
        for (const stage of [...plan.steps.flatMap((s) => s.stages), ...(plan.onFailure ? [plan.onFailure] : [])]) {
          if (stage.type === 'service') {
            const d = deployments.items.find((x) => x.metadata?.name === stage.baseName);
            const ready = d ? `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}` : '-';
            const status = !d ? 'not deployed' : (d.status?.readyReplicas ?? 0) >= (d.spec?.replicas ?? 0) ? 'ready' : 'not ready';
            rows.push([stage.stage, 'service', status, ready, d ? stage.url : '']);
          } else {
            const mine = jobs.items
              .filter((j) => j.metadata?.labels?.[LABEL_STAGE] === stage.baseName)
              .sort((a, b) => new Date(b.metadata?.creationTimestamp ?? 0).getTime() - new Date(a.metadata?.creationTimestamp ?? 0).getTime());
            const last = mine[0];
            const outcome = jobOutcome(last);
            const status = !last ? 'no run' : !outcome ? 'running' : outcome.complete ? 'succeeded' : `failed (${outcome.condition.reason ?? 'Failed'})`;
            rows.push([stage.stage, 'batch', status, '', last ? `Job/${last.metadata?.name}` : '']);
          }
        }
        io.stdout(renderTable(rows));
      } catch (error) {
        if (error instanceof CliExit) throw error;
        throw new CliExit(EXIT_FAILURE, `error: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
}
