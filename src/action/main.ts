/**
 * The GitHub Action's entry point: a thin shell over the engine. It reads the inputs, loads and
 * validates the project (config problems become annotations on their file and line), and runs the
 * command.
 */
import * as core from '@actions/core';
import { isAbsolute, join } from 'node:path';
import { formatProblem } from '../engine/config/problems.js';
import { loadProject } from '../engine/config/load.js';
import { bundleProject, planProject } from '../engine/plan/index.js';
import { readInputs } from './inputs.js';
import { actionLogger } from './logger.js';
import { renderPlanSummary } from './plan-summary.js';
import { readRunContext } from './run-context.js';

export async function run(): Promise<void> {
  try {
    const inputs = readInputs();
    const context = readRunContext();
    const dir = isAbsolute(inputs.projectDir) ? inputs.projectDir : join(context.workspace, inputs.projectDir);
    const logger = actionLogger(inputs.projectDir);

    const { spec, problems } = await loadProject(dir);
    for (const problem of problems) {
      const line = formatProblem({ ...problem, file: join(inputs.projectDir, problem.file) });
      if (problem.severity === 'error') logger.error(line, problem);
      else logger.warn(line, problem);
    }
    if (!spec) {
      const errors = problems.filter((p) => p.severity === 'error').length;
      core.setFailed(`bodywork-deploy: ${errors} configuration problem${errors === 1 ? '' : 's'} in ${inputs.projectDir}; nothing was deployed`);
      return;
    }

    const plan = planProject(spec, {
      namespace: inputs.namespace,
      image: inputs.image,
      ingressClass: inputs.ingressClass,
      commitSha: context.sha,
      runId: context.runId,
      codeBundle: await bundleProject(spec),
    });
    core.setOutput('namespace', plan.namespace);
    await core.summary.addRaw(renderPlanSummary(plan, context)).write();
    core.info(`planned ${plan.steps.length} steps for ${plan.project} in namespace ${plan.namespace}; see the job summary`);
  } catch (error) {
    core.setFailed(`bodywork-deploy: ${error instanceof Error ? error.message : String(error)}`);
  }
}

await run();
