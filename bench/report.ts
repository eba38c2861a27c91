/** Medians and plain (markdown) tables of the runs. */
import { nominalMs, type RunSample, type StageSample } from './sample.js';

export function median(xs: (number | undefined)[]): number | undefined {
  const s = xs.filter((x): x is number => x !== undefined && Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return undefined;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const sec = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(2)} s`);
const milli = (ms: number | undefined) => (ms === undefined ? '-' : `${Math.round(ms)} ms`);
const ratio = (x: number | undefined) => (x === undefined ? '-' : `${x.toFixed(2)}x`);

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

const steps = (run: RunSample) => [...new Set(run.stages.map((s) => s.step))].sort((a, b) => a - b);
const ofStep = (run: RunSample, step: number) => run.stages.filter((s) => s.step === step);
const max = (xs: (number | undefined)[]) => (xs.some((x) => x === undefined) ? undefined : Math.max(...(xs as number[])));

/** The nominal work of a run: per step its longest stage's own time, summed over the steps. */
export function runNominalMs(run: RunSample): number | undefined {
  const perStep = steps(run).map((st) => max(ofStep(run, st).map(nominalMs)));
  return perStep.some((x) => x === undefined) ? undefined : perStep.reduce((a, b) => a! + b!, 0);
}

export interface ClusterRuns {
  cluster: string;
  ours: RunSample[];
  kubectl: RunSample[];
}

/** Wall, nominal, their ratio, set-up and tail per deployer; ours/kubectl as the median of the paired runs' ratios. */
export function summaryTable(all: ClusterRuns[]): string {
  const rows: string[][] = [];
  for (const c of all) {
    for (const runs of [c.ours, c.kubectl]) {
      if (runs.length === 0) continue;
      const paired = runs === c.ours ? median(c.ours.map((r, i) => (c.kubectl[i] ? r.wallMs / c.kubectl[i]!.wallMs : undefined))) : undefined;
      rows.push([
        c.cluster,
        runs[0]!.deployer,
        sec(median(runs.map((r) => r.wallMs))),
        sec(median(runs.map(runNominalMs))),
        ratio(median(runs.map((r) => r.wallMs / (runNominalMs(r) ?? NaN)))),
        sec(median(runs.map((r) => r.setupMs))),
        sec(median(runs.map((r) => r.tailMs))),
        sec(median(runs.map((r) => r.hostCpuMs))),
        runs === c.ours ? ratio(paired) : '',
      ]);
    }
  }
  return table(['cluster', 'deployer', 'wall', 'nominal', 'wall/nominal', 'set-up', 'tail', 'host CPU', 'ours/kubectl'], rows);
}

/**
 * Per step, medians over the runs and the step's stages: where the time between the step's start and the next step
 * goes. Batch: finish = script end, seen = pod terminated in the API, reported = the deployer's stage end
 * (completion detection = seen→reported). Service: finish = listening, seen = pod Ready, reported = stage ready.
 */
export function stepTable(all: ClusterRuns[]): string {
  const rows: string[][] = [];
  for (const c of all) {
    for (const runs of [c.ours, c.kubectl]) {
      if (runs.length === 0) continue;
      for (const step of steps(runs[0]!)) {
        const samples = runs.flatMap((r) => ofStep(r, step));
        const finish = (s: StageSample) => (s.type === 'batch' ? s.scriptEnd : s.listening);
        const seen = (s: StageSample) => (s.type === 'batch' ? s.terminated : s.ready);
        const d = (f: (s: StageSample) => number | undefined) => milli(median(samples.map(f)));
        const gap = median(
          runs.map((r) => {
            const next = ofStep(r, step + 1);
            const doneAt = max(ofStep(r, step).map((s) => s.done));
            return next.length > 0 && doneAt !== undefined ? Math.min(...next.map((s) => s.stepStart)) - doneAt : undefined;
          }),
        );
        const first = ofStep(runs[0]!, step);
        rows.push([
          c.cluster,
          runs[0]!.deployer,
          `${step}: ${first.length} × ${first[0]!.type}`,
          sec(median(runs.map((r) => max(ofStep(r, step).map(nominalMs))))),
          sec(median(runs.map((r) => (max(ofStep(r, step).map((s) => s.done)) ?? NaN) - Math.min(...ofStep(r, step).map((s) => s.stepStart))))),
          d((s) => (s.created === undefined ? undefined : s.created - s.stepStart)),
          d((s) => (s.scriptStart === undefined || s.created === undefined ? undefined : s.scriptStart - s.created)),
          d((s) => (seen(s) === undefined || finish(s) === undefined ? undefined : seen(s)! - finish(s)!)),
          d((s) => (seen(s) === undefined ? undefined : s.done - seen(s)!)),
          d((s) => (finish(s) === undefined ? undefined : s.done - finish(s)!)),
          milli(gap),
        ]);
      }
    }
  }
  return table(
    ['cluster', 'deployer', 'step', 'nominal', 'step wall', 'engine: start→created', 'cluster: created→script start', 'finish→seen', 'seen→reported', 'finish→reported', 'gap to next step'],
    rows,
  );
}

/** API requests per stage, by verb: medians over the runs of each run's count divided by its stages. */
/** The cluster's latency of each step split by who acted: the workload controller, the scheduler, the kubelet, and the container's own start (its command up to the script's first line). */
export function clusterLatencyTable(all: ClusterRuns[]): string {
  const rows: string[][] = [];
  const span = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : b - a);
  for (const c of all) {
    for (const runs of [c.ours, c.kubectl]) {
      if (runs.length === 0) continue;
      for (const step of steps(runs[0]!)) {
        const samples = runs.flatMap((r) => ofStep(r, step));
        const d = (f: (s: StageSample) => number | undefined) => milli(median(samples.map(f)));
        rows.push([
          c.cluster,
          runs[0]!.deployer,
          String(step),
          d((s) => span(s.created, s.podCreated)),
          d((s) => span(s.podCreated, s.podScheduled)),
          d((s) => span(s.podScheduled, s.podRunning)),
          d((s) => span(s.podRunning, s.scriptStart)),
        ]);
      }
    }
  }
  return table(['cluster', 'deployer', 'step', 'controller: created→pod', 'scheduler: pod→bound', 'kubelet: bound→running', 'container: running→script start'], rows);
}

export function requestTable(all: ClusterRuns[]): string {
  const rows: string[][] = [];
  for (const c of all) {
    for (const runs of [c.ours, c.kubectl]) {
      if (runs.length === 0) continue;
      const verbs = [...new Set(runs.flatMap((r) => Object.keys(r.requests)))].sort();
      const per = (r: RunSample, v?: string) => (v ? (r.requests[v] ?? 0) : Object.values(r.requests).reduce((a, b) => a + b, 0)) / r.stages.length;
      rows.push([
        c.cluster,
        runs[0]!.deployer,
        (median(runs.map((r) => per(r))) ?? 0).toFixed(1),
        verbs.map((v) => `${v} ${(median(runs.map((r) => per(r, v))) ?? 0).toFixed(1)}`).join(', '),
      ]);
    }
  }
  return table(['cluster', 'deployer', 'requests/stage', 'by verb (ours: client verbs; kubectl: HTTP methods)'], rows);
}
