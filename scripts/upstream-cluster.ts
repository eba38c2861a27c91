/**
 * `npm run upstream-cluster -- --kubeconfig FILE`: builds and starts the upstream control plane (test/upstream),
 * joins our sandbox node to it, writes the admin kubeconfig to FILE, prints one line containing `ready`, and on
 * SIGTERM/SIGINT stops the node (every pod process) and the control plane.
 */
import { parseArgs } from 'node:util';
import { startUpstreamCluster } from '../test/support/upstream-cluster.js';

const { values } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    'data-dir': { type: 'string' },
    'node-name': { type: 'string' },
    'node-ip': { type: 'string' },
    verbose: { type: 'boolean', default: false },
  },
});
if (!values.kubeconfig) {
  console.error('usage: npm run upstream-cluster -- --kubeconfig FILE [--data-dir DIR] [--node-name NAME] [--node-ip IP] [--verbose]');
  process.exit(2);
}
const log = values.verbose ? (m: string) => console.error(m) : () => {};
const cluster = await startUpstreamCluster({
  kubeconfigPath: values.kubeconfig,
  dataDir: values['data-dir'],
  nodeName: values['node-name'],
  nodeIP: values['node-ip'],
  node: { warn: (m) => console.error(m) },
  log,
}).catch((err: Error) => {
  console.error(`upstream-cluster: ${err.message}`);
  process.exit(1);
});
console.log(`ready ${JSON.stringify({ kubeconfig: cluster.kubeconfigPath, server: cluster.server, version: cluster.version, node: cluster.node.nodeName })}`);
let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  cluster.stop().then(
    () => process.exit(0),
    (err: Error) => {
      console.error(`upstream-cluster: stopping: ${err.message}`);
      process.exit(1);
    },
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
