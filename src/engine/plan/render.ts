/**
 * Renders a plan as a YAML stream (`---` separated), every object in apply order, for `kubectl apply -f -`
 * or review. A comment before each step's first object says which step and stages follow. The engine's index loads it
 * with the YAML library only when a plan is printed (`loadPlanYaml`).
 */
import { stringify } from 'yaml';
import { type RenderOptions, withoutCode } from './display.js';
import { planObjects } from './plan.js';
import type { DeployPlan, PlannedObject } from './types.js';

function toYaml(object: PlannedObject, options: RenderOptions): string {
  // lineWidth 0: never fold long strings (scripts, base64), so the output diffs line by line.
  return stringify(options.codeContents === true ? object : withoutCode(object), { lineWidth: 0, aliasDuplicateObjects: false });
}

/**
 * The plan's objects as one YAML stream, set-up objects first, then step by step (the run_on_failure stage is not
 * included). The code ConfigMaps' files are described (size, sha256), not printed, unless `codeContents`.
 */
export function renderPlanYaml(plan: DeployPlan, options: RenderOptions = {}): string {
  const docs: string[] = plan.setup.map((o) => toYaml(o, options));
  const total = plan.steps.length;
  for (const [n, step] of plan.steps.entries()) {
    const heading = `# step ${n + 1}/${total} (DAG step ${step.index}): ${step.stages.map((s) => `${s.stage} (${s.type})`).join(', ')}\n`;
    step.stages
      .flatMap((stage) => stage.objects)
      .forEach((object, i) => docs.push(`${i === 0 ? heading : ''}${toYaml(object, options)}`));
  }
  if (docs.length !== planObjects(plan).length) throw new Error('internal error: rendered objects differ from the plan');
  return docs.map((doc) => `---\n${doc}`).join('');
}
