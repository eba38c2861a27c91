/** The action's `command: teardown`, and the teardown of a closed pull request's preview. */
import * as core from '@actions/core';
import { loadTeardown, planProject } from '../engine/index.js';
import { headerTable, renderTornDownComment, teardownMessage } from './deploy-summary.js';
import { code, escapeHtml } from './markdown.js';
import * as out from './output.js';
import { connect, githubPreview, type Run } from './run.js';

export async function teardownCommand(r: Run): Promise<void> {
  const client = await connect(r);
  const plan = planProject(r.spec, { namespace: r.namespace });
  const { teardownProject } = await loadTeardown();
  const result = await r.logger.group(`Teardown of namespace=${r.namespace}`, () =>
    teardownProject({
      client,
      logger: r.logger,
      project: r.spec.name,
      namespace: r.namespace,
      // Never in the middle of a deployment: wait for its lock as a deploy would.
      lock: { timeoutMs: r.inputs.lockTimeoutMs, ...(r.context.runUrl !== undefined ? { holder: `teardown (${r.context.runUrl})` } : {}) },
    }),
  );
  const message = teardownMessage(result);
  out.info(message);
  core.setOutput('status', 'success');
  const why = r.preview?.closed ? `pull request #${r.preview.number} was closed: ` : '';
  const github = await githubPreview(r);
  let environment = '';
  if (github && r.preview) {
    const n = await github.deactivateAll(r.context.runUrl);
    out.info(`marked ${n} GitHub deployment${n === 1 ? '' : 's'} of ${r.namespace} inactive`);
    // Deactivated first: when the token may not delete the environment, it still shows as torn down.
    const deleted = await github.deleteEnvironment();
    const { ENVIRONMENT_OUTCOME_TEXT } = await import('./github.js');
    environment = `\nGitHub environment ${code(r.namespace)}: ${escapeHtml(ENVIRONMENT_OUTCOME_TEXT[deleted])}.\n`;
    if (r.inputs.comment) await github.upsertComment(r.preview.number, renderTornDownComment(r.namespace, r.context, why + message));
  }
  await out.writeSummary(`## 🧹 Bodywork teardown: ${escapeHtml(plan.project)}\n\n${headerTable(plan.project, r.namespace, r.context)}\n${escapeHtml(why + message)}\n${environment}`);
}
