/** The deploy plan: Bodywork project → Kubernetes objects, step by step. */
export * from './types.js';
export * from './names.js';
export * from './labels.js';
export {
  CODE_MOUNT_PATH,
  NOTEBOOK_RUNNER,
  NOTEBOOK_STATE_DIR,
  PROJECT_MOUNT_PATH,
  SCRIPT_RUNNER,
  SCRIPT_TIMEOUT_EXIT_CODE,
  WORKING_COPY_VOLUME_NAME,
  isNotebook,
  notebookEnv,
  setupSecondsOf,
  shellQuote,
  stageCommand,
  stageScript,
  type StageCommandOptions,
} from './command.js';
export * from './limits.js';
export {
  CONTAINER_NAME,
  MAX_SURGE,
  PlanError,
  SHORT_SHA_LENGTH,
  STAGE_SERVICE_ACCOUNT,
  cpuQuantity,
  memoryQuantity,
  planNamespace,
  planObjects,
  planProject,
} from './plan.js';
export { BUNDLE_LIMIT_BYTES, BundleError, CODE_VOLUME_NAME, CONFIGMAP_BUDGET_BYTES, bundleProject, configMapKeys, listProjectFiles } from './bundle.js';
export { GIT_CHECKOUT_PATH, GIT_IMAGE, GIT_INIT_CONTAINER_NAME, GIT_TOKEN_SECRET_KEY, GIT_VOLUME_NAME, checkGitSource, gitCode, gitFetchScript } from './git-source.js';
// renderPlanYaml (render.ts) is not here: it brings the YAML library, so the engine's index loads it lazily (loadPlanYaml).
export { displayObjects, withoutCode } from './display.js';
export { REGISTRY_SECRET, checkPullSecretNames, pullSecretsField } from './pull-secrets.js';
