/**
 * `npm run bench`: deploys `prep 1 s >> three 3 s stages >> two services` with the engine and, on the same cluster
 * in the same session, the plain kubectl way; against the embedded sandbox and the upstream control plane. Prints
 * medians as tables: wall against the nominal work (what the stage scripts measured themselves), where each step's
 * time goes, and API requests per stage. Timing is only ever reported, never asserted.
 *
 * Usage: npm run bench [-- --runs 5 | --quick] [--cluster embedded|upstream|both] [--action [--dist DIR | --build] [--cold]]
 * With --action, "ours" is the action bundle run from outside (bench/ours-action.ts) instead of the engine in this process.
 * With --cold, every run starts as on a fresh hosted runner: the action with an empty Node compile cache, kubectl with
 * an empty discovery cache (otherwise both are kept across the runs, as on a person's machine or a self-hosted runner).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProject } from '../src/engine/config/load.js';
import { KubeClient, loadKubeConfig } from '../src/engine/kube/index.js';
import { nullLogger } from '../src/engine/logger.js';
import { bundleProject, planProject } from '../src/engine/plan/index.js';
import { startTestCluster, type ClusterTarget } from '../test/support/cluster.js';
import { Kubectl, kubectlMissing, runKubectl } from './baseline.js';
import { BODYWORK_NOT_RUN } from './bodywork.js';
import { Observer } from './observer.js';
import { distFromArgs } from './action-run.js';
import { runAction } from './ours-action.js';
import { runOurs } from './ours.js';
import { DAG, writeProject } from './project.js';
import { clusterLatencyTable, requestTable, stepTable, summaryTable, type ClusterRuns } from './report.js';
import type { RunSample } from './sample.js';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const runs = process.argv.includes('--quick') ? 2 : Number(option('--runs') ?? 5);
const clusterArg = option('--cluster') ?? 'both';
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a whole number of 1 or more, got ${option('--runs')}`);
if (!['embedded', 'upstream', 'both'].includes(clusterArg)) throw new Error(`--cluster must be embedded, upstream or both, got '${clusterArg}'`);
const targets: ClusterTarget[] = clusterArg === 'both' ? ['embedded', 'upstream'] : [clusterArg as ClusterTarget];
const noKubectl = kubectlMissing();
const progress = (m: string) => process.stderr.write(`${m}\n`);
const action = process.argv.includes('--action') ? distFromArgs(process.argv) : undefined;
const cold = process.argv.includes('--cold');
if (cold && !action) throw new Error('--cold is for --action: the engine in this process has compiled its code already');

const projectDir = await writeProject();
const { spec } = await loadProject(projectDir);
if (!spec) throw new Error('the benchmark project does not load');
const codeBundle = await bundleProject(spec);

/** The run, with the CPU this process (the sandbox or our node, and the observer) spent during it. */
async function withHostCpu(run: () => Promise<RunSample>): Promise<RunSample> {
  const before = process.cpuUsage();
  const sample = await run();
  const { user, system } = process.cpuUsage(before);
  return { ...sample, hostCpuMs: (user + system) / 1000 };
}

async function benchCluster(target: ClusterTarget): Promise<ClusterRuns> {
  const tmp = await mkdtemp(join(tmpdir(), 'bodywork-bench-kube-'));
  const kubeconfigPath = join(tmp, 'kubeconfig');
  const cluster = await startTestCluster(target, { kubeconfigPath });
  const client = KubeClient.create(loadKubeConfig({ content: cluster.kubeconfig }).kc, nullLogger);
  const observer = new Observer(cluster.kubeconfig);
  const kubectl = new Kubectl(kubeconfigPath, join(tmp, 'kubectl-cache'));
  const out: ClusterRuns = { cluster: target, ours: [], kubectl: [] };
  // Each run leaves its service pods serving; deleting its namespace keeps the runs alike (not timed).
  const drop = (ns: string) =>
    kubectl.run(['delete', 'namespace', ns, '--timeout=180s']).catch((e) => progress(`  (namespace ${ns} not deleted: ${(e as Error).message.split('\n')[0]})`));
  try {
    for (let i = 0; i < runs; i++) {
      const runId = `bench-${i}`;
      const ours = async () => {
        const ns = `bench-ours-${i}`;
        out.ours.push(
          await withHostCpu(() =>
            action
              ? runAction(action.dist, cluster.kubeconfig, projectDir, observer, planProject(spec!, { namespace: ns, codeBundle }), cold)
              : runOurs(client, observer, spec!, codeBundle, ns, runId),
          ),
        );
        await drop(ns);
      };
      const plain = async () => {
        if (noKubectl) return;
        const plan = planProject(spec!, { namespace: `bench-kubectl-${i}`, runId, codeBundle });
        const baseline = cold ? new Kubectl(kubeconfigPath, join(tmp, `kubectl-cache-${i}`)) : kubectl;
        out.kubectl.push(await withHostCpu(() => runKubectl(baseline, observer, plan)));
        await drop(plan.namespace);
      };
      // Alternate who goes first, so neither always runs on a machine still busy with the other's clean-up.
      for (const f of i % 2 === 0 ? [ours, plain] : [plain, ours]) await f();
      const wall = (r: RunSample[]) => (r[i] ? `${(r[i]!.wallMs / 1000).toFixed(2)} s` : '-');
      progress(`${target} run ${i + 1}/${runs}: ours ${wall(out.ours)}, kubectl ${wall(out.kubectl)}`);
    }
  } finally {
    await observer.stop();
    await cluster.stop();
    await rm(tmp, { recursive: true, force: true });
  }
  return out;
}

try {
  const all: ClusterRuns[] = [];
  for (const target of targets) {
    progress(`starting the ${target} cluster…`);
    all.push(await benchCluster(target));
  }
  console.log(`# Deploy benchmark: DAG "${DAG}" (YAML 1.1), medians of ${runs} runs, ${new Date().toISOString().slice(0, 10)}${cold ? ', every run cold (empty compile and discovery caches)' : ''}\n`);
  console.log('Nominal work: per step, the longest stage as its script measured itself (batch: start to end; service: start to listening).\n');
  console.log(`${summaryTable(all)}\n`);
  console.log('Per step (medians over runs and the step\'s stages; finish = script end or listening, seen = pod terminated or Ready in the API, reported = the deployer done):\n');
  console.log(`${stepTable(all)}\n`);
  console.log('Cluster latency per step (created→script start above), split at the moments the pod reached a watcher:\n');
  console.log(`${clusterLatencyTable(all)}\n`);
  console.log(`${requestTable(all)}\n`);
  if (noKubectl) console.log(`kubectl baseline not run: ${noKubectl}\n`);
  console.log(BODYWORK_NOT_RUN);
} finally {
  await rm(projectDir, { recursive: true, force: true });
  action?.cleanup();
}
