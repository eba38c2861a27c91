/**
 * The overrides file: per-stage pod fields Bodywork's config has no place for (GPUs, node selection, tolerations,
 * volumes, extra environment, security context, ...), merged into the planned pods (plan/overrides.ts).
 *
 *     defaults:            # merged into every stage's pod first
 *       pod: {...}         # PodSpec fields, and metadata.labels / metadata.annotations of the pod
 *       container: {...}   # fields of the stage's container
 *     stages:
 *       <stage name>:      # a stage of the project config
 *         pod: {...}
 *         container: {...}
 *
 * Found in the project directory, next to bodywork.yaml / bodywork.ini: `bodywork-deploy.yaml`, else
 * `bodywork-deploy.yml` (with both, the first is read and the other gets a warning). Optional: without it nothing
 * changes. It is read as the project config is (never through a link out of the project) and checked at load time
 * (overrides-file.ts): the official schema (k8s-schema.ts), the deployer's contract (plan/override-contract.ts), label
 * syntax, and that limits are not below the stage's requests; every problem is reported at its line, all at once.
 */
import path from 'node:path';
import type { ProblemList } from './collect.js';
import { isFile } from './files.js';
import type { PodOverrides, StageSpec } from './spec.js';

/** The overrides file's names, in order of preference. */
export const OVERRIDES_FILES = ['bodywork-deploy.yaml', 'bodywork-deploy.yml'];

/**
 * Reads and checks the overrides file of the project in `root`, if it has one. `stages` are the project's stages (when
 * the project config could be read): overrides must name them, and limits must not be below their requests.
 */
export async function loadOverrides(root: string, stages: Record<string, StageSpec> | undefined, problems: ProblemList): Promise<PodOverrides | undefined> {
  const present: string[] = [];
  for (const file of OVERRIDES_FILES) if (await isFile(path.join(root, file))) present.push(file);
  const [file, ...ignored] = present;
  for (const other of ignored) problems.warning({ file: other }, `ignored: pod overrides are read from ${file} (only one overrides file is used)`);
  if (file === undefined) return undefined;
  const { readOverridesFile } = await import('./overrides-file.js');
  return readOverridesFile(root, file, stages, problems);
}
