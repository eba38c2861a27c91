/** The action's `command: plan`. */
import * as core from '@actions/core';
import { loadDryRun, planProject, problemsLine, verdictLine } from '../engine/index.js';
import * as out from './output.js';
import { renderPlanSummary } from './plan-summary.js';
import { codeInputs, connect, inputSecrets, newRunId, planInputs, type Run } from './run.js';

/**
 * `command: plan`. With the `kubeconfig` input, also a server-side dry run of every object (engine/deploy/dry-run.ts),
 * its verdict and diff in the summary, failing the step when the server refuses any. Without it no cluster is touched
 * (a runner's own ~/.kube/config is not reason enough to start talking to a cluster).
 */
export async function planCommand(r: Run): Promise<void> {
  const server = r.kubeconfigInput !== undefined;
  const plan = planProject(r.spec, { namespace: r.namespace, ...planInputs(r), ...(server ? { runId: newRunId(r) } : {}), ...(await codeInputs(r)) });
  if (!server) {
    await out.writeSummary(await renderPlanSummary(plan, r.context));
    core.setOutput('status', 'success');
    out.info(`planned ${plan.steps.length} steps for ${plan.project} in namespace ${plan.namespace}; see the job summary`);
    return;
  }
  const client = await connect(r);
  const { checkOnServer } = await loadDryRun();
  const check = await r.logger.group(`Server-side dry run in namespace=${plan.namespace}`, () => checkOnServer({ client, logger: r.logger, plan, secrets: inputSecrets(r) }));
  for (const o of check.refused) r.logger.error(`the API server refuses ${o.object}: ${o.message ?? ''}`);
  for (const m of check.missingSecrets) r.logger.error(`${m.usedBy}: ${m.message}`);
  await out.writeSummary(await renderPlanSummary(plan, r.context, check));
  core.setOutput('status', check.ok ? 'success' : 'failure');
  out.info(`planned ${plan.steps.length} steps for ${plan.project} in namespace ${plan.namespace}: ${verdictLine(check)}; see the job summary`);
  if (!check.ok) out.fail(`bodywork-deploy: ${problemsLine(check)}`);
}
