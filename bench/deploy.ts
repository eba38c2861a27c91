/**
 * Deploy benchmark against the embedded sandbox. Prints, as medians over several runs:
 * - wall time against the DAG's critical path (sum over steps of the step's longest stage),
 * - the engine's overhead per step, and the gap from a step's last stage finishing to the next step starting,
 * - API requests per stage, for short and long stages: waiting is done with watches, so the
 *   request count must not grow with the time spent waiting.
 *
 * Usage: npm run bench [-- --runs 5]
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadProject } from '../src/engine/config/load.js';
import { deployProject } from '../src/engine/deploy/deploy.js';
import type { DeployResult } from '../src/engine/deploy/types.js';
import { KubeClient, loadKubeConfig } from '../src/engine/kube/index.js';
import { nullLogger } from '../src/engine/logger.js';
import { bundleProject, planProject } from '../src/engine/plan/index.js';
import { startSandbox } from '../src/sandbox/index.js';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 5;

/** Three steps: two concurrent batch stages, one batch stage, one service (1 replica). */
function project(sleepSeconds: number): Record<string, string> {
  const batch = (name: string) =>
    `  ${name}:\n    executable_module_path: ${name}/main.py\n    cpu_request: 0.1\n    memory_request_mb: 50\n    batch:\n      max_completion_time_seconds: 120\n      retries: 0\n`;
  return {
    'bodywork.yaml':
      'version: "1.1"\npipeline:\n  name: bench\n  docker_image: bodyworkml/bodywork-core:latest\n  DAG: prep-a, prep-b >> train >> serve\nstages:\n' +
      batch('prep-a') +
      batch('prep-b') +
      batch('train') +
      '  serve:\n    executable_module_path: serve/main.py\n    cpu_request: 0.1\n    memory_request_mb: 50\n    service:\n      max_startup_time_seconds: 60\n      replicas: 1\n      port: 5000\n      ingress: false\n' +
      'logging:\n  log_level: INFO\n',
    'prep-a/main.py': `import time\nprint("prep-a")\ntime.sleep(${sleepSeconds})\n`,
    'prep-b/main.py': `import time\nprint("prep-b")\ntime.sleep(${sleepSeconds})\n`,
    'train/main.py': `import time\nprint("train")\ntime.sleep(${sleepSeconds})\n`,
    'serve/main.py': 'import http.server\nhttp.server.HTTPServer(("0.0.0.0", 5000), http.server.SimpleHTTPRequestHandler).serve_forever()\n',
  };
}

async function writeProject(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bodywork-bench-'));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}

interface Figures {
  wallMs: number;
  criticalPathMs: number;
  overheadPerStepMs: number;
  stepGapsMs: number[];
  requestsPerStage: number;
}

function figures(result: DeployResult, requests: number): Figures {
  const steps = new Map<number, { start: number; end: number; longest: number }>();
  for (const s of result.stages) {
    if (!s.startedAt || s.durationMs === undefined) continue;
    const start = Date.parse(s.startedAt);
    const st = steps.get(s.step) ?? { start: Infinity, end: 0, longest: 0 };
    st.start = Math.min(st.start, start);
    st.end = Math.max(st.end, start + s.durationMs);
    st.longest = Math.max(st.longest, s.durationMs);
    steps.set(s.step, st);
  }
  const ordered = [...steps.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
  const criticalPathMs = ordered.reduce((sum, s) => sum + s.longest, 0);
  return {
    wallMs: result.durationMs,
    criticalPathMs,
    overheadPerStepMs: (result.durationMs - criticalPathMs) / ordered.length,
    stepGapsMs: ordered.slice(1).map((s, i) => s.start - ordered[i]!.end),
    requestsPerStage: requests / result.stages.length,
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function bench(sleepSeconds: number): Promise<Figures[]> {
  const sandbox = await startSandbox({ warn: () => {} });
  const client = KubeClient.create(loadKubeConfig({ content: sandbox.kubeconfig }).kc, nullLogger);
  const dir = await writeProject(project(sleepSeconds));
  const out: Figures[] = [];
  try {
    const { spec } = await loadProject(dir);
    if (!spec) throw new Error('the benchmark project does not load');
    const codeBundle = await bundleProject(spec);
    for (let i = 0; i < runs; i++) {
      const runId = `bench-${sleepSeconds}-${i}`;
      const plan = planProject(spec, { namespace: `bench-${i}`, runId, codeBundle });
      client.resetRequestCounts();
      const result = await deployProject({ client, logger: nullLogger, spec, plan, runId });
      if (result.status !== 'success') throw new Error(`run ${i} failed: ${result.reason ?? result.stages.map((s) => `${s.stage}: ${s.status} ${s.reason ?? ''}`).join('; ')}`);
      out.push(figures(result, client.totalRequests()));
    }
  } finally {
    await sandbox.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return out;
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
console.log(`deploy benchmark: ${runs} runs per case, DAG "prep-a, prep-b >> train >> serve", medians`);
const rows: string[][] = [];
for (const sleep of [0.5, 3]) {
  const all = await bench(sleep);
  const wall = median(all.map((f) => f.wallMs));
  const cp = median(all.map((f) => f.criticalPathMs));
  rows.push([
    `${sleep} s stages`,
    fmt(wall),
    fmt(cp),
    `${(median(all.map((f) => f.overheadPerStepMs)) / 1000).toFixed(3)} s`,
    `${(median(all.flatMap((f) => f.stepGapsMs)) / 1000).toFixed(3)} s`,
    `${((100 * (wall - cp)) / wall).toFixed(1)}%`,
    median(all.map((f) => f.requestsPerStage)).toFixed(1),
  ]);
}
const header = ['case', 'wall', 'critical path', 'overhead/step', 'step gap', 'overhead share', 'requests/stage'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
for (const row of [header, ...rows]) console.log(row.map((c, i) => c.padEnd(widths[i]!)).join('  '));
