/**
 * Renders a plan as a YAML stream (`---` separated), every object in apply order, for `kubectl apply -f -`
 * or review. A comment before each step's first object says which step and stages follow.
 */
import { stringify } from 'yaml';
import { planObjects } from './plan.js';
import type { DeployPlan, PlannedObject } from './types.js';

function toYaml(object: PlannedObject): string {
  // lineWidth 0: never fold long strings (scripts, base64), so the output diffs line by line.
  return stringify(object, { lineWidth: 0, aliasDuplicateObjects: false });
}

/** The plan's objects as one YAML stream, set-up objects first, then step by step (the run_on_failure stage is not included). */
export function renderPlanYaml(plan: DeployPlan): string {
  const docs: string[] = plan.setup.map(toYaml);
  const total = plan.steps.length;
  for (const [n, step] of plan.steps.entries()) {
    const heading = `# step ${n + 1}/${total} (DAG step ${step.index}): ${step.stages.map((s) => `${s.stage} (${s.type})`).join(', ')}\n`;
    step.stages
      .flatMap((stage) => stage.objects)
      .forEach((object, i) => docs.push(`${i === 0 ? heading : ''}${toYaml(object)}`));
  }
  if (docs.length !== planObjects(plan).length) throw new Error('internal error: rendered objects differ from the plan');
  return docs.map((doc) => `---\n${doc}`).join('');
}
