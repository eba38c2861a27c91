/**
 * `npm run bench:scale`: the action bundle, run from outside, at scale on the embedded sandbox (in this process).
 *
 * - Stages: a DAG of W-stage steps (every stage sleeps 1 s), small (2 x 5) and large (10 x 20 = 200 stages). Per size:
 *   wall over nominal (steps x 1 s), API requests per stage by verb (the action's own count), the action's peak RSS
 *   and its CPU per stage. Requests per stage should not grow with the stage count.
 * - Log volume: one stage printing 10 MB, then 100 MB of short numbered lines and `\r` progress bars
 *   (test/support/log-volume.ts): the action's peak RSS (flat in the volume), its job summary's size, and whether
 *   every line reached its log exactly once.
 *
 * Usage: [BENCH_SIZES=2x5,10x20] [BENCH_LOG_MB=10,100] npm run bench:scale [-- --runs N] [--dist DIR | --build] [--only stages|logs]
 * Medians of N runs (default 3). Timing is only reported, never asserted.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { KubeClient, loadKubeConfig } from '../src/engine/kube/index.js';
import { nullLogger } from '../src/engine/logger.js';
import { startTestCluster } from '../test/support/cluster.js';
import { LogLineTally, linesFor, logVolumeScript, type LogTally } from '../test/support/log-volume.js';
import { distFromArgs, runActionBundle, type BundleRun } from './action-run.js';
import { median, table } from './report.js';

const argv = process.argv.slice(2);
const opt = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const runs = Number(opt('--runs') ?? 3);
const only = opt('--only');
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a whole number of 1 or more, got ${opt('--runs')}`);
const progress = (m: string) => process.stderr.write(`${m}\n`);

const SLEEP_SECONDS = 1;
/** DAG sizes, `STEPSxWIDTH` (BENCH_SIZES=2x5,10x20 by default). */
const SIZES = (process.env.BENCH_SIZES ?? '2x5,10x20').split(',').map((s) => {
  const [steps, width] = s.split('x').map(Number);
  return { steps, width };
});
/** Stage log sizes in MB (BENCH_LOG_MB=10,100 by default). */
const LOG_MB = (process.env.BENCH_LOG_MB ?? '10,100').split(',').map(Number);

const stageName = (step: number, i: number) => `s${String(step).padStart(2, '0')}-${String(i).padStart(2, '0')}`;

/** Files of a YAML 1.1 project; every stage runs `work/main.py`. */
function projectFiles(name: string, dag: string, stages: string[], script: string, maxSeconds: number): Record<string, string> {
  const yaml = [`version: "1.1"`, 'pipeline:', `  name: ${name}`, '  docker_image: bodyworkml/bodywork-core:latest', `  DAG: ${dag}`, 'stages:'];
  for (const s of stages) {
    yaml.push(`  ${s}:`, '    executable_module_path: work/main.py', '    cpu_request: 0.01', '    memory_request_mb: 10', '    batch:', `      max_completion_time_seconds: ${maxSeconds}`, '      retries: 0');
  }
  yaml.push('logging:', '  log_level: INFO', '');
  return { 'bodywork.yaml': yaml.join('\n'), 'work/main.py': script };
}

async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
}

const { dist, cleanup } = distFromArgs(argv);
const workspace = mkdtempSync(join(tmpdir(), 'bench-scale-'));
const cluster = await startTestCluster('embedded');
const client = KubeClient.create(loadKubeConfig({ content: cluster.kubeconfig }).kc, nullLogger);
let nsCount = 0;

/** One action run into a fresh namespace, deleted afterwards (not timed) so runs do not pile up pods. */
async function deploy(project: string, onLine?: (line: string) => void): Promise<BundleRun> {
  const namespace = `scale-${nsCount++}`;
  const run = await runActionBundle({ dist, kubeconfig: cluster.kubeconfig, workspace, projectDir: project, inputs: { namespace, timeout: '30m' }, ...(onLine ? { onLine } : {}) });
  if (run.status !== 0 || run.outputs.status !== 'success') throw new Error(`the action failed in ${namespace}:\n${run.tail.join('\n')}`);
  await client.delete('Namespace', undefined, namespace).catch(() => undefined);
  return run;
}

const mb = (kb: number | undefined) => (kb === undefined ? '-' : `${Math.round(kb / 1024)} MB`);
const sec = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);

async function benchStages(): Promise<string> {
  const rows: string[][] = [];
  for (const { steps, width } of SIZES) {
    const stages = Array.from({ length: steps }, (_, s) => Array.from({ length: width }, (_, i) => stageName(s + 1, i + 1)));
    const dag = stages.map((st) => st.join(', ')).join(' >> ');
    const project = `stages-${steps}x${width}`;
    await writeFiles(join(workspace, project), projectFiles(project, dag, stages.flat(), `import time\ntime.sleep(${SLEEP_SECONDS})\n`, 600));
    const samples: BundleRun[] = [];
    for (let i = 0; i < runs; i++) {
      samples.push(await deploy(project));
      progress(`${steps} x ${width} stages, run ${i + 1}/${runs}: ${sec(samples.at(-1)!.wallMs)}`);
    }
    const n = steps * width;
    const nominal = steps * SLEEP_SECONDS * 1000;
    const verbs = [...new Set(samples.flatMap((r) => Object.keys(r.requests)))].sort();
    const perStage = (r: BundleRun) => Object.values(r.requests).reduce((a, b) => a + b, 0) / n;
    rows.push([
      `${n} (${steps} x ${width})`,
      sec(median(samples.map((r) => r.wallMs))),
      sec(nominal),
      `${(median(samples.map((r) => r.wallMs))! / nominal).toFixed(2)}x`,
      (median(samples.map(perStage)) ?? 0).toFixed(1),
      verbs.map((v) => `${v} ${(median(samples.map((r) => (r.requests[v] ?? 0) / n)) ?? 0).toFixed(2)}`).join(', '),
      mb(median(samples.map((r) => r.maxRssKb))),
      `${Math.round(median(samples.map((r) => (r.cpuMs ?? NaN) / n)) ?? NaN)} ms`,
    ]);
  }
  return table(['stages', 'wall', 'nominal', 'wall/nominal', 'requests/stage', 'by verb (per stage)', 'action peak RSS', 'action CPU/stage'], rows);
}

async function benchLogs(): Promise<string> {
  const rows: string[][] = [];
  for (const size of LOG_MB) {
    const lines = linesFor(size * 1024 * 1024);
    const project = `logs-${size}mb`;
    await writeFiles(join(workspace, project), projectFiles(project, 'loud', ['loud'], logVolumeScript(lines), 1800));
    const samples: { run: BundleRun; tally: LogTally }[] = [];
    for (let i = 0; i < runs; i++) {
      const tally = new LogLineTally('loud', lines);
      // The action's own lines (not the stage's numbered ones): kept to explain a run that lost or doubled lines.
      const own: string[] = [];
      const run = await deploy(project, (line) => {
        tally.add(line);
        if (!/^\[loud\] [LP]\d{8} /.test(line) && own.length < 20_000) own.push(line.slice(0, 500));
      });
      samples.push({ run, tally: tally.result() });
      const t = samples.at(-1)!.tally;
      progress(`${size} MB of log, run ${i + 1}/${runs}: ${sec(run.wallMs)}, ${mb(run.maxRssKb)}, ${t.once}/${t.expected} lines once`);
      if (t.once !== t.expected || !t.ended) {
        const file = join(tmpdir(), `bench-scale-${project}-run-${i + 1}-${Date.now()}.log`); // kept: the workspace is removed
        const ranges = tally.anomalies().map(([a, b, c]) => `lines ${a}-${b} seen ${c} times`);
        writeFileSync(file, [...ranges, '', ...own].join('\n') + '\n');
        progress(`  not every line once (${ranges.join('; ')}); the action's other lines: ${file}`);
      }
    }
    const worst = (k: 'missing' | 'doubled' | 'wrong') => Math.max(...samples.map((s) => s.tally[k]));
    rows.push([
      `${size} MB`,
      String(lines),
      sec(median(samples.map((s) => s.run.wallMs))),
      mb(median(samples.map((s) => s.run.maxRssKb))),
      sec(median(samples.map((s) => s.run.cpuMs))),
      `${(median(samples.map((s) => s.run.summaryBytes))! / 1024).toFixed(1)} KiB`,
      samples.every((s) => s.tally.once === lines && s.tally.ended) ? `all, in every run` : `NOT ALL: min ${Math.min(...samples.map((s) => s.tally.once))}`,
      `${worst('missing')} / ${worst('doubled')} / ${worst('wrong')}`,
    ]);
  }
  return table(['stage log', 'numbered lines', 'wall', 'action peak RSS', 'action CPU', 'job summary', 'lines exactly once', 'missing / doubled / wrong (worst run)'], rows);
}

try {
  const out: string[] = [];
  if (only !== 'logs') out.push(await benchStages());
  if (only !== 'stages') out.push(await benchLogs());
  console.log(`# Scale: the action bundle (${dist}) on the embedded sandbox, medians of ${runs} runs, ${new Date().toISOString().slice(0, 10)}, load average ${loadavg().map((x) => x.toFixed(2)).join(', ')}\n`);
  console.log(out.join('\n\n'));
} finally {
  await cluster.stop();
  await rm(workspace, { recursive: true, force: true });
  cleanup();
}
