/**
 * The job summary of a run stopped by its configuration: every problem (errors first, then warnings), each linked
 * to its file and line at the commit being run (`$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/blob/$GITHUB_SHA/<path>#L<line>`),
 * so a reader goes from the summary straight to the line. Paths are relative to the workspace (the repository root).
 */
import { problemLocation, sortProblems, type ConfigProblem } from '../engine/index.js';
import { code, escapeHtml, table } from './markdown.js';
import type { RunContext } from './run-context.js';

/** The file (and line) at the run's commit on GitHub, when the run knows its repository and commit. */
export function problemUrl(file: string, line: number | undefined, context: Pick<RunContext, 'serverUrl' | 'repository' | 'sha'>): string | undefined {
  if (context.repository === undefined || context.sha === undefined) return undefined;
  const server = (context.serverUrl ?? 'https://github.com').replace(/\/+$/, '');
  const path = file.split('/').map(encodeURIComponent).join('/');
  return `${server}/${context.repository}/blob/${context.sha}/${path}${line !== undefined ? `#L${line}` : ''}`;
}

/** `problems` have workspace-relative paths; `projectPath` is the project directory's; `command` the action's (deploy, plan, teardown). */
export function renderConfigSummary(command: string, projectPath: string, problems: ConfigProblem[], context: RunContext): string {
  const sorted = sortProblems(problems).sort((a, b) => Number(a.severity === 'warning') - Number(b.severity === 'warning'));
  const errors = problems.filter((p) => p.severity === 'error').length;
  const rows = sorted.map((p) => {
    const where = problemLocation(p);
    const url = problemUrl(p.file, p.line, context);
    return [
      p.severity,
      url !== undefined ? `<a href="${escapeHtml(url)}">${code(where)}</a>` : code(where),
      escapeHtml(p.message),
    ];
  });
  return (
    `## ❌ Bodywork ${escapeHtml(command)}: configuration problems in ${code(projectPath)}\n\n` +
    `**Failure:** ${errors} configuration problem${errors === 1 ? '' : 's'} in ${code(projectPath)}; nothing was deployed.\n\n` +
    table(['Severity', 'Where', 'Problem'], rows)
  );
}
