/**
 * Labels and annotations on planned objects.
 *
 * Labels (all values valid label values, at most 63 characters):
 * - `app.kubernetes.io/managed-by: bodywork-deploy` and `app.kubernetes.io/part-of: <project>` on every
 *   object, the Namespace included (the recommended labels,
 *   https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/): this tool's objects
 *   of one project are exactly those matching both.
 * - `app.kubernetes.io/component: batch|service` on stage objects and their pods.
 * - Bodywork's own labels, so its tooling and habits keep working (bodywork-behaviour.md §2.2):
 *   `app: bodywork`, `stage: <object name>`, `deployment-name: <project>`, and `git-commit-hash: <short sha>`
 *   when the commit is known.
 * Deployment selectors use `stage` only, exactly as each Bodywork version did, so a Deployment Bodywork created can
 * be updated in place (selectors are immutable) and a commit or run never changes a selector (where `stage` is the
 * bare stage name, the Service's selector and the engine's lookups add `part-of`: see plan.ts). The `stage` value
 * follows the format's Bodywork version (bodywork-behaviour.md §2.2, `stageLabelValue`): Bodywork 1 (INI) and 2
 * (schema "1.0") labelled a Deployment and its pods with the stage's configured name and selected on it, and
 * everything else with the object name; Bodywork 3 (schema "1.1") used the object name throughout.
 *
 * Annotations (free text): `bodywork.dev/stage` (the stage's name as configured, which may not be a
 * valid label value), `bodywork.dev/git-commit` (full sha) and `bodywork.dev/run-id`.
 *
 * A PR preview's Namespace also carries `bodywork.dev/preview-pr: <number>` (a label, so previews are found with a
 * selector) and `bodywork.dev/preview-repository: <owner>/<name>` (an annotation: `/` is not allowed in a label
 * value), so a sweep can ask the repository whether the pull request is still open.
 */

import type { ProjectSpec } from '../config/spec.js';
import { isLabelValue } from '../kube/names.js';
import { prefixesStageNames, toDnsLabel } from './names.js';

export const MANAGED_BY = 'bodywork-deploy';

export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_PART_OF = 'app.kubernetes.io/part-of';
export const LABEL_COMPONENT = 'app.kubernetes.io/component';
/** Bodywork's per-stage label (`stageLabelValue`). Selectors use this label only. */
export const LABEL_STAGE = 'stage';
export const LABEL_APP = 'app';
export const LABEL_DEPLOYMENT_NAME = 'deployment-name';
export const LABEL_GIT_COMMIT = 'git-commit-hash';
/** `app.kubernetes.io/component` of the in-cluster runner's objects (engine/runner): never a stage's. */
export const RUNNER_COMPONENT = 'runner';

export const ANNOTATION_STAGE = 'bodywork.dev/stage';
export const ANNOTATION_GIT_COMMIT = 'bodywork.dev/git-commit';
export const ANNOTATION_RUN_ID = 'bodywork.dev/run-id';
export const LABEL_PREVIEW_PR = 'bodywork.dev/preview-pr';
export const ANNOTATION_PREVIEW_REPOSITORY = 'bodywork.dev/preview-repository';

/**
 * The `stage` label of a stage's object of `kind`, whose name is `objectName`: the stage's configured name (made a
 * valid label value if it is not one) on a Deployment and its pods for INI and schema "1.0" projects, as Bodywork 1
 * and 2 set it (so `kubectl get pods -l stage=<stage>` finds them); the object name everywhere else.
 */
export function stageLabelValue(spec: Pick<ProjectSpec, 'format' | 'schemaVersion'>, stage: string, objectName: string, kind: 'Deployment' | 'other'): string {
  if (kind !== 'Deployment' || !prefixesStageNames(spec)) return objectName;
  return isLabelValue(stage) && stage !== '' ? stage : toDnsLabel(stage);
}

/** Labels on every object of the project. */
export function projectLabels(project: string): Record<string, string> {
  return { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_PART_OF]: project };
}

/** The stable labels that select one stage's pods. */
export function stageSelector(name: string): Record<string, string> {
  return { [LABEL_STAGE]: name };
}

/** Labels on a stage's objects and pods; `shortSha` only when the commit is known. */
export function stageLabels(project: string, name: string, type: 'batch' | 'service', shortSha?: string): Record<string, string> {
  return {
    ...projectLabels(project),
    [LABEL_COMPONENT]: type,
    [LABEL_APP]: 'bodywork',
    [LABEL_DEPLOYMENT_NAME]: project,
    ...stageSelector(name),
    ...(shortSha !== undefined ? { [LABEL_GIT_COMMIT]: shortSha } : {}),
  };
}

/** Annotations recording what was deployed: the commit and the run, when known. */
export function runAnnotations(commitSha?: string, runId?: string): Record<string, string> {
  return {
    ...(commitSha !== undefined ? { [ANNOTATION_GIT_COMMIT]: commitSha } : {}),
    ...(runId !== undefined ? { [ANNOTATION_RUN_ID]: runId } : {}),
  };
}
