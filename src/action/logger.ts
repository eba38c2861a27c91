/**
 * The engine's Logger over the action's output (output.ts): groups, debug lines, and config problems as a log line
 * `path:line:col: message` (the form editors and problem matchers read) and as a file annotation. Every message
 * may quote untrusted text, so none is written raw.
 */
import { formatProblem, type ConfigProblem, type Logger } from '../engine/index.js';
import * as out from './output.js';

/** GitHub shows at most 10 error and 10 warning annotations per step; the rest go to the log only. */
export const ANNOTATION_LIMIT = 10;

/** `projectPath`: the project directory relative to the workspace (the repository root), as annotations need it. */
export function actionLogger(projectPath: string): Logger {
  const counts = { error: 0, warning: 0 };
  const annotate = (kind: 'error' | 'warning', message: string, problem?: ConfigProblem): void => {
    if (!problem) {
      out.info(`${kind}: ${message}`);
      return;
    }
    const file = joinPath(projectPath, problem.file);
    // The line in the log always; the annotation while GitHub still shows them.
    out.info(formatProblem({ ...problem, file }));
    if (counts[kind] >= ANNOTATION_LIMIT) return;
    counts[kind]++;
    const props = { file, startLine: problem.line, startColumn: problem.column, title: 'Bodywork config' };
    if (kind === 'error') out.error(problem.message, props);
    else out.warning(problem.message, props);
  };
  return {
    debug: (m) => out.debug(m),
    info: (m) => out.info(m),
    warn: (m, problem) => annotate('warning', m, problem),
    error: (m, problem) => annotate('error', m, problem),
    group: (name, fn) => out.group(name, fn),
    backlog: out.backlog,
  };
}

/** `dir/file`, without `./` for the workspace itself. */
export function joinPath(dir: string, file: string): string {
  return dir === '.' || dir === '' ? file : `${dir.replace(/\/+$/, '')}/${file}`;
}
