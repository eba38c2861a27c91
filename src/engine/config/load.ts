import path from 'node:path';

import { ProblemList } from './collect.js';
import { isDirectory, isFile } from './files.js';
import { INI_PROJECT_FILE, loadIniProject } from './load-ini.js';
import { loadOverrides } from './overrides.js';
import { type ConfigProblem, sortProblems } from './problems.js';
import type { ProjectSpec } from './spec.js';

export interface LoadResult {
  /** The project, present only when there is no error (warnings allowed). */
  spec?: ProjectSpec;
  /** Every problem found, errors and warnings, sorted by file and line. */
  problems: ConfigProblem[];
}

/** Project files in order of preference: YAML (Bodywork 2–3) before the older INI layout. */
const YAML_FILES = ['bodywork.yaml', 'bodywork.yml'];

/**
 * Loads and validates the Bodywork project in `dir` (`bodywork.yaml`, else `bodywork.yml`, else `bodywork.ini`;
 * when several exist the first is read and the others get a warning), with its pod overrides (`bodywork-deploy.yaml`,
 * config/overrides.ts) when it has them.
 * Never throws for a bad project: every problem is returned at once.
 */
export async function loadProject(dir: string): Promise<LoadResult> {
  const root = path.resolve(dir);
  const problems = new ProblemList();
  if (!(await isDirectory(root))) {
    problems.error({ file: '.' }, `project directory "${dir}" does not exist or is not a directory`);
    return { problems: problems.items };
  }

  const present: string[] = [];
  for (const file of [...YAML_FILES, INI_PROJECT_FILE]) {
    if (await isFile(path.join(root, file))) present.push(file);
  }
  const [chosen, ...ignored] = present;
  for (const file of ignored) problems.warning({ file }, `ignored: the project is read from ${chosen} (only one project file is used)`);

  let spec: ProjectSpec | undefined;
  if (chosen === undefined) {
    problems.error({ file: '.' }, `no Bodywork project file found; expected bodywork.yaml, bodywork.yml or bodywork.ini in the project directory`);
  } else if (chosen === INI_PROJECT_FILE) {
    spec = await loadIniProject(root, problems);
  } else {
    // The YAML parser is loaded for YAML projects only (as the overrides file's reader is, overrides.ts).
    const { loadYamlProject } = await import('./load-yaml.js');
    spec = await loadYamlProject(root, chosen, problems);
  }

  // Pod overrides (bodywork-deploy.yaml next to the project file), checked even when the project has errors.
  const overrides = chosen !== undefined ? await loadOverrides(root, spec?.stages, problems) : undefined;
  if (spec !== undefined && overrides !== undefined) spec.overrides = overrides;

  const sorted = sortProblems(problems.items);
  return problems.hasErrors || spec === undefined ? { problems: sorted } : { spec, problems: sorted };
}
