/**
 * One run of the action bundle from outside (`npm run bench -- --action`): a process of its own, as a workflow step
 * runs it, so its start-up (node, the bundle, the project's bundling) is part of the wall time. Stage start and end
 * come from its `stages` output (the engine's own report), requests from its debug line (bench/action-run.ts).
 */
import type { DeployPlan } from '../src/engine/plan/index.js';
import { runActionBundle } from './action-run.js';
import type { Observer } from './observer.js';
import { stageSample, type RunSample } from './sample.js';

interface StageOutput {
  stage: string;
  status: string;
  startedAt?: string;
  durationMs?: number;
}

/**
 * `plan` is the engine's plan of the same project and namespace (its Job names differ: the action picks its run id).
 * `cold`: with an empty compile cache (action-run.ts).
 */
export async function runAction(dist: string, kubeconfig: string, projectDir: string, observer: Observer, plan: DeployPlan, cold = false): Promise<RunSample> {
  const t0 = Date.now();
  const run = await runActionBundle({ dist, kubeconfig, workspace: projectDir, projectDir: '.', inputs: { namespace: plan.namespace, timeout: '10m' }, coldCompileCache: cold });
  const end = Date.now();
  const stages = JSON.parse(run.outputs.stages ?? '[]') as StageOutput[];
  if (run.status !== 0 || run.outputs.status !== 'success') throw new Error(`the action failed in ${plan.namespace}:\n${run.tail.join('\n')}`);
  const samples = await Promise.all(
    plan.steps.flatMap((step) =>
      step.stages.map((stage) => {
        const r = stages.find((s) => s.stage === stage.stage)!;
        const start = Date.parse(r.startedAt!);
        return stageSample(observer, plan.namespace, stage, step.index, start, start + r.durationMs!);
      }),
    ),
  );
  return {
    deployer: 'action',
    wallMs: end - t0,
    setupMs: Math.min(...samples.map((s) => s.stepStart)) - t0,
    tailMs: end - Math.max(...samples.map((s) => s.done)),
    stages: samples,
    requests: run.requests,
  };
}
