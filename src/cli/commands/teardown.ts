/**
 * `bodywork-deploy teardown [DIR]`: removes a deployed project. A namespace labelled as this project's (we created
 * it) is deleted whole, waiting until it is gone; in any other namespace only the objects carrying the project's
 * labels are deleted (Background propagation: their pods and ReplicaSets go with them).
 */
import type { Command } from 'commander';
import type { KubernetesObject } from '@kubernetes/client-node';
import { waitForObject } from '../../engine/kube/index.js';
import { type ClusterFlags, clientFromFlags, planOrExit } from '../cluster.js';
import { CliExit, type CliIo, EXIT_FAILURE, plural, stderrLogger } from '../io.js';
import { loadProjectOrExit } from '../project.js';

interface TeardownFlags extends ClusterFlags {
  namespace?: string;
  verbose?: boolean;
}

/** Kinds our plans create inside a namespace, in deletion order. */
const PROJECT_KINDS = ['Job', 'Deployment', 'Service', 'Ingress', 'ConfigMap', 'RoleBinding', 'Role', 'ServiceAccount'];
const NAMESPACE_GONE_MS = 180_000;

export function registerTeardown(program: Command, io: CliIo): void {
  program
    .command('teardown')
    .description("delete the project from the cluster: its namespace if this tool created it, else every object with the project's labels")
    .argument('[dir]', 'project directory', '.')
    .option('--kubeconfig <file>', 'kubeconfig file (default: KUBECONFIG, else ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context (default: its current-context)')
    .option('-n, --namespace <ns>', 'namespace (default: the project namespace, else the project name)')
    .option('-v, --verbose', 'print every API request')
    .action(async (dir: string, flags: TeardownFlags) => {
      const logger = stderrLogger(io, flags.verbose === true);
      const spec = await loadProjectOrExit(dir, io);
      const plan = await planOrExit(spec, flags.namespace !== undefined ? { namespace: flags.namespace } : {}, false);
      const client = clientFromFlags(flags, logger);
      const ns = plan.namespace;
      try {
        const namespace = await client.find<KubernetesObject>('Namespace', undefined, ns);
        if (namespace === undefined) {
          io.stderr(`namespace=${ns} does not exist: nothing to tear down\n`);
          return;
        }
        const labels = namespace.metadata?.labels ?? {};
        const ours = Object.entries(plan.labels).every(([k, v]) => labels[k] === v);
        if (ours) {
          io.stderr(`deleting namespace=${ns}\n`);
          await client.delete('Namespace', undefined, ns);
          await waitForObject({ client, path: '/api/v1/namespaces', name: ns }, (o) => o === undefined, {
            timeoutMs: NAMESPACE_GONE_MS,
            description: `namespace ${ns} to be deleted`,
          });
          io.stdout(`deleted namespace=${ns}\n`);
          return;
        }
        const selector = Object.entries(plan.labels)
          .map(([k, v]) => `${k}=${v}`)
          .join(',');
        let deleted = 0;
        for (const kind of PROJECT_KINDS) {
          const { items } = await client.list<KubernetesObject>(kind, ns, { labelSelector: selector });
          for (const o of items) {
            if (await client.delete(kind, ns, o.metadata?.name ?? '', { propagationPolicy: 'Background' })) {
              deleted++;
              io.stderr(`deleted ${kind.toLowerCase()}=${o.metadata?.name} from namespace=${ns}\n`);
            }
          }
        }
        io.stdout(`namespace=${ns} is not managed by bodywork-deploy for ${plan.project}: deleted ${plural(deleted, 'object')} of the project, kept the namespace\n`);
      } catch (error) {
        if (error instanceof CliExit) throw error;
        throw new CliExit(EXIT_FAILURE, `error: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
}
