import type { ConfigProblem } from './problems.js';
import type { ProjectSpec } from './spec.js';

export interface LoadResult {
  /** The project, present only when there is no error (warnings allowed). */
  spec?: ProjectSpec;
  /** Every problem found, errors and warnings, sorted by file and line. */
  problems: ConfigProblem[];
}

/**
 * Loads and validates the Bodywork project in `dir` (`bodywork.yaml` if present, else `bodywork.ini`).
 * Never throws for a bad project: every problem is returned at once.
 */
export async function loadProject(dir: string): Promise<LoadResult> {
  throw new Error(`not implemented yet: ${dir}`);
}
