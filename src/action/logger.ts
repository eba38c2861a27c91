/**
 * The engine's Logger over the action's output (output.ts): groups, debug lines, and config problems as file
 * annotations. Every message may quote untrusted text, so none is written raw.
 */
import type { ConfigProblem } from '../engine/config/problems.js';
import type { Logger } from '../engine/logger.js';
import * as out from './output.js';

/** GitHub shows at most 10 error and 10 warning annotations per step; the rest go to the log only. */
export const ANNOTATION_LIMIT = 10;

export function actionLogger(projectDir: string): Logger {
  const counts = { error: 0, warning: 0 };
  const annotate = (kind: 'error' | 'warning', message: string, problem?: ConfigProblem): void => {
    if (problem && counts[kind] < ANNOTATION_LIMIT) {
      counts[kind]++;
      const props = { file: joinPath(projectDir, problem.file), startLine: problem.line, startColumn: problem.column, title: 'Bodywork config' };
      if (kind === 'error') out.error(problem.message, props);
      else out.warning(problem.message, props);
    } else {
      out.info(`${kind}: ${message}`);
    }
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

function joinPath(dir: string, file: string): string {
  return dir === '.' || dir === '' ? file : `${dir.replace(/\/+$/, '')}/${file}`;
}
