/**
 * The job summary for `command: plan`: what a deploy would create, step by step, and the objects as YAML; with a
 * kubeconfig, also the API server's dry-run verdict (every refusal with its object and message) and the diff against
 * what is deployed. Server messages and cluster fields are untrusted: escaped, and in <pre> blocks (no markdown fence
 * a backtick in them could close).
 */
import { renderDiff, renderObjectLines, verdictLine, planObjects, loadPlanYaml, type ServerCheckResult, type DeployPlan } from '../engine/index.js';
import { code, details, escapeHtml, SUMMARY_LIMIT_BYTES, table, truncateBytes } from './markdown.js';
import type { RunContext } from './run-context.js';

export async function renderPlanSummary(plan: DeployPlan, context: RunContext, server?: ServerCheckResult): Promise<string> {
  const parts: string[] = [];
  parts.push(`## ${server && !server.ok ? '❌ ' : ''}Bodywork plan: ${escapeHtml(plan.project)}\n`);
  parts.push(header(plan, context));
  // The verdict first: a refusal is what the reader must see.
  if (server !== undefined) parts.push(serverSection(server));
  parts.push(`### DAG\n\n${plan.steps.map((s) => `${s.index}. ${s.stages.map((st) => code(st.stage)).join(', ')}`).join('\n')}\n`);
  parts.push('### Stages\n');
  parts.push(
    table(
      ['Step', 'Stage', 'Type', 'Objects', 'In-cluster URL'],
      plan.steps.flatMap((step) =>
        step.stages.map((stage) => [
          String(step.index),
          code(stage.stage),
          stage.type,
          stage.objects.map((o) => `${escapeHtml(o.kind ?? '')} ${code(o.metadata?.name ?? '')}`).join('<br>'),
          stage.type === 'service' ? code(stage.url) : '',
        ]),
      ),
    ),
  );
  if (plan.overrides !== undefined) parts.push(overridesSection(plan.overrides));
  const setup = plan.setup.map((o) => `${escapeHtml(o.kind ?? '')} ${code(o.metadata?.name ?? '')}`).join(', ');
  parts.push(`Set-up objects: ${setup}. ${planObjects(plan).length} objects in all.\n`);
  if (plan.codeFiles !== undefined) parts.push(codeFilesSection(plan.codeFiles));
  const head = parts.join('\n');
  // The YAML goes last and is cut to what the size limit leaves.
  const yamlBudget = SUMMARY_LIMIT_BYTES - Buffer.byteLength(head) - 1024;
  const { renderPlanYaml } = await loadPlanYaml();
  return `${head}\n${details('Plan as YAML', truncateBytes(renderPlanYaml(plan), Math.max(yamlBudget, 0)))}`;
}

/** Which stages' pods the overrides file changes, and the fields it sets (the file's text is untrusted: escaped). */
function overridesSection(overrides: NonNullable<DeployPlan['overrides']>): string {
  const intro = `### Pod overrides\n\nFrom ${code(overrides.file)}, merged into the stages' pods with Kubernetes' strategic merge (defaults first, then the stage's own).\n`;
  if (overrides.stages.length === 0) return `${intro}\nNo planned stage is overridden.\n`;
  const rows = overrides.stages.map((s) => [code(s.stage), s.from.map((f) => (f === 'stage' ? 'its own entry' : 'defaults')).join(', '), s.sets.map(code).join('<br>')]);
  return `${intro}\n${table(['Stage', 'From', 'Sets'], rows)}`;
}

/** At most this share of the summary goes to the dry-run diff; the plan's YAML gets what is left. */
const DIFF_BUDGET_BYTES = Math.floor(SUMMARY_LIMIT_BYTES / 2);

function serverSection(server: ServerCheckResult): string {
  const verdict = `${server.ok ? '✅' : '❌'} ${escapeHtml(verdictLine(server))}.`;
  const refusals =
    server.refused.length === 0
      ? ''
      : table(
          ['Object', "The API server's message"],
          server.refused.map((o) => [code(o.object), escapeHtml(o.message ?? '')]),
        );
  const secrets =
    server.missingSecrets.length === 0
      ? ''
      : `\nSecrets the run needs that namespace ${code(server.namespace)} lacks (a deploy would fail on them):\n\n${table(
          ['Secret', 'Key', 'Needed by', 'Problem'],
          server.missingSecrets.map((m) => [code(m.secret), m.key !== undefined ? code(m.key) : '', escapeHtml(m.usedBy), escapeHtml(m.message)]),
        )}`;
  const unchecked =
    server.unchecked.length > 0 && !server.namespaceExists
      ? `Namespace ${code(server.namespace)} does not exist yet: the API server checks the objects in it only once it exists (a deploy creates it first), so ${server.unchecked.length} objects are shown as planned, not checked.\n`
      : '';
  const diff = renderDiff(server);
  return (
    `### Server-side dry run\n\n${verdict}\n\n${refusals}${secrets}${unchecked}\n` +
    details(`Objects (${server.objects.length})`, renderObjectLines(server).join('\n')) +
    '\n' +
    (diff === ''
      ? 'Nothing would change in the cluster.\n'
      : details('Diff against the cluster (kubectl diff style; a Job is new each run and compared with its stage\'s latest; Secret values masked)', truncateBytes(diff, DIFF_BUDGET_BYTES)))
  );
}

/** Files shown in the bundled-files table; the rest are counted. */
const CODE_FILES_SHOWN = 200;

/** The code bundle's files with sizes and sha256, never their contents (the YAML below describes them the same way). */
function codeFilesSection(files: NonNullable<DeployPlan['codeFiles']>): string {
  const lines = files.slice(0, CODE_FILES_SHOWN).map((f) => `${f.sha256}  ${String(f.bytes).padStart(9)}  ${f.path}`);
  if (files.length > CODE_FILES_SHOWN) lines.push(`…and ${files.length - CODE_FILES_SHOWN} more files`);
  const total = files.reduce((n, f) => n + f.bytes, 0);
  return (
    `### Code bundle\n\n${files.length} files, ${total} bytes: the files git tracks in a checkout, else what .gitignore keeps; never credential files.\n\n` +
    details('Bundled files (sha256, bytes, path)', lines.join('\n'))
  );
}

function header(plan: DeployPlan, context: RunContext): string {
  const rows: string[][] = [
    ['Project', code(plan.project)],
    ['Namespace', code(plan.namespace)],
    ['Image', code(plan.image)],
  ];
  if (context.sha) rows.push(['Commit', code(context.sha.slice(0, 12))]);
  if (context.eventName) rows.push(['Trigger', code(context.eventName)]);
  if (context.runUrl) rows.push(['Run', `<a href="${escapeHtml(context.runUrl)}">${escapeHtml(context.runUrl)}</a>`]);
  return table(undefined, rows);
}
