/**
 * `npm run bench:trace [-- --runs N] [--cluster embedded|upstream] [--dist DIR | --build]`: the action bundle's
 * timeline. Deploys the benchmark's project (bench/project.ts) N times (default 3) with step debug on and prints every
 * line of its output with the milliseconds since its spawn, so the set-up (the process up to its first API request,
 * then each request) and the tail (prune, the lock, the summary, the exit) can be read request by request. The
 * last line of each run is its exit, with the process's CPU time and peak RSS (GNU time). Asserts nothing.
 */
import { rm } from 'node:fs/promises';
import { startTestCluster, type ClusterTarget } from '../test/support/cluster.js';
import { distFromArgs, runActionBundle } from './action-run.js';
import { writeProject } from './project.js';

const argv = process.argv.slice(2);
const runs = Number(argv[argv.indexOf('--runs') + 1] ?? 3) || 3;
const target = (argv.includes('--cluster') ? argv[argv.indexOf('--cluster') + 1] : 'embedded') as ClusterTarget;
const { dist, cleanup } = distFromArgs(argv);
const projectDir = await writeProject();
const cluster = await startTestCluster(target);
try {
  for (let i = 0; i < runs; i++) {
    console.log(`# run ${i + 1}/${runs}`);
    const t0 = performance.now();
    const stamp = (line: string) => console.log(`${(performance.now() - t0).toFixed(0).padStart(6)} ${line}`);
    const run = await runActionBundle({ dist, kubeconfig: cluster.kubeconfig, workspace: projectDir, projectDir: '.', inputs: { namespace: `trace-${i}`, timeout: '10m' }, debug: true, onLine: stamp });
    stamp(`exit ${run.status}${run.cpuMs !== undefined ? `, CPU ${run.cpuMs.toFixed(0)} ms, peak RSS ${Math.round(run.maxRssKb! / 1024)} MB` : ''}`);
  }
} finally {
  await cluster.stop();
  await rm(projectDir, { recursive: true, force: true });
  cleanup();
}
