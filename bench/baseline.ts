/**
 * The plain way, as a person would script it with kubectl: `kubectl apply` of the engine's own plan (set-up objects,
 * then step by step), `kubectl wait --for=condition=complete` per Job and `kubectl rollout status` per Deployment, a
 * step's stages in parallel, the next step once all of them are done. Requests are counted from kubectl's `-v=6` log.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { DeployPlan } from '../src/engine/plan/index.js';
import { renderPlanYaml } from '../src/engine/plan/render.js';
import type { Observer } from './observer.js';
import { stageSample, type RunSample } from './sample.js';

const TIMEOUT = '--timeout=300s';

/** Why kubectl cannot be the baseline here, or undefined when it can. */
export function kubectlMissing(): string | undefined {
  const r = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : `kubectl is not on PATH (${r.error?.message ?? r.stderr.trim()})`;
}

export class Kubectl {
  readonly requests: Record<string, number> = {};

  /** `cacheDir`: kubectl's discovery cache, kept across the runs on one cluster (warm, as on a person's machine). */
  constructor(
    private readonly kubeconfigPath: string,
    private readonly cacheDir: string,
  ) {}

  /** Runs kubectl; rejects with its output when it fails. */
  run(args: string[], stdin?: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn('kubectl', ['--kubeconfig', this.kubeconfigPath, '--cache-dir', this.cacheDir, '-v=6', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.on('error', reject);
      child.on('close', (code) => {
        this.count(out);
        if (code === 0) resolve();
        else reject(new Error(`kubectl ${args.join(' ')} exited ${code}:\n${out.slice(-2000)}`));
      });
      child.stdin.end(stdin ?? '');
    });
  }

  /** One request per response line: `"Response" verb="GET" …` (newer klog) or `] GET https://… 200 OK` (older). */
  private count(log: string): void {
    for (const m of log.matchAll(/"Response" verb="(\w+)"|\] (GET|POST|PUT|PATCH|DELETE) https?:\/\/\S+ \d{3}/g)) {
      const verb = (m[1] ?? m[2]!).toLowerCase();
      this.requests[verb] = (this.requests[verb] ?? 0) + 1;
    }
  }

  reset(): void {
    for (const k of Object.keys(this.requests)) delete this.requests[k];
  }
}

export async function runKubectl(k: Kubectl, observer: Observer, plan: DeployPlan): Promise<RunSample> {
  const ns = plan.namespace;
  const yaml = (p: DeployPlan) => renderPlanYaml(p, { codeContents: true });
  k.reset();
  const t0 = Date.now();
  await k.run(['apply', '-f', '-'], yaml({ ...plan, steps: [] }));
  const timed: { step: number; stage: (typeof plan.steps)[number]['stages'][number]; start: number; done: number }[] = [];
  for (const step of plan.steps) {
    const start = Date.now();
    await k.run(['apply', '-f', '-'], yaml({ ...plan, setup: [], steps: [step] }));
    await Promise.all(
      step.stages.map(async (stage) => {
        if (stage.type === 'batch') await k.run(['wait', '-n', ns, '--for=condition=complete', TIMEOUT, `job/${stage.job.metadata!.name}`]);
        else await k.run(['rollout', 'status', '-n', ns, TIMEOUT, `deployment/${stage.deployment.metadata!.name}`]);
        timed.push({ step: step.index, stage, start, done: Date.now() });
      }),
    );
  }
  const end = Date.now();
  const requests = { ...k.requests };
  const stages = await Promise.all(timed.map((t) => stageSample(observer, ns, t.stage, t.step, t.start, t.done)));
  return {
    deployer: 'kubectl',
    wallMs: end - t0,
    setupMs: Math.min(...stages.map((s) => s.stepStart)) - t0,
    tailMs: end - Math.max(...stages.map((s) => s.done)),
    stages,
    requests,
  };
}
