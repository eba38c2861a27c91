/** Loading a project for a command: every problem printed, and an exit with code 2 when there is an error. */
import path from 'node:path';
import { formatProblem, loadProject, safeLine, type ConfigProblem, type ProjectSpec } from '../engine/index.js';
import { CliExit, type CliIo, EXIT_USAGE, plural } from './io.js';

/** A problem as `<dir>/<file>:line: message` (one safe line), so the path works from where the command was run. */
export function formatProblemIn(dir: string, problem: ConfigProblem): string {
  return safeLine(formatProblem({ ...problem, file: path.join(dir, problem.file) }));
}

/**
 * Loads the project in `dir`, printing every problem (warnings included) to stderr. Without errors it
 * returns the project; otherwise it ends the command with exit code 2 and a last line `N problems in <dir>`.
 */
export async function loadProjectOrExit(dir: string, io: CliIo): Promise<ProjectSpec> {
  const { spec, problems } = await loadProject(dir);
  for (const problem of problems) io.stderr(`${formatProblemIn(dir, problem)}\n`);
  if (spec === undefined) throw new CliExit(EXIT_USAGE, `${plural(problems.length, 'problem')} in ${dir}`);
  return spec;
}

/** The stages a project runs (its DAG's), and its steps. */
export function countStages(spec: ProjectSpec): { stages: number; steps: number } {
  return { stages: new Set(spec.dag.flat()).size, steps: spec.dag.length };
}
