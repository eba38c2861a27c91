/**
 * The engine's public surface: the one module the action (src/action) and the CLI (src/cli) import from the engine
 * (a no-restricted-imports rule in eslint.config.js keeps it so).
 *
 * Two kinds of export, for cold start (`bodywork-deploy --version`, `validate`, the action's `plan` without a cluster):
 * - static: what runs before a cluster is contacted (settings, validation, planning, messages, redaction), and the
 *   types of everything;
 * - lazy entry functions (`load…`): the parts that bring client-node's runtime (the API client, deploy, teardown,
 *   dry runs, the lock, the in-cluster runner). A static re-export would put client-node in every entry bundle's
 *   first chunk; behind import() esbuild splits each into a chunk read only when a command needs it (scripts/build.mjs).
 * One static export still brings client-node's models: loadProject, through the overrides' schema check
 * (config/k8s-schema.ts; lightening that is issue 13's). So an entry point that needs none of the project or the plan
 * (the post step) imports base.ts, this index's first part, alone.
 */

// Settings, messages, redaction: the base every entry point may import alone (base.ts says when).
export * from './base.js';

// The project: loading, validation problems, the secrets inputs.
export { loadProject } from './config/load.js';
export { formatProblem, problemLocation, sortProblems, type ConfigProblem } from './config/problems.js';
export type { ProjectSpec } from './config/spec.js';
export { quoteValue } from './config/quote.js';
export { parseSecretEntries, parseSecretLines, secretEntryValue, secretLineEntries, type SecretEntry, type SecretInput } from './config/secrets-input.js';

// The plan.
export * from './plan/index.js';

// Kubernetes names and errors, and the kubeconfig content (no client-node in these).
export { isDns1035Label, isDns1123Label, isDns1123Subdomain, isLabelValue, isQualifiedName, MAX_NAME_LENGTH } from './kube/names.js';
export { decodeContent, KubeConfigError } from './kube/kubeconfig-content.js';
export { KubeApiError } from './kube/errors.js';
export type { KubeClient, LoadedKubeConfig, Manifest } from './kube/index.js';

// Deploy results and the Secrets a deploy writes (objects only: writing them is the deploy's).
export type { DeployProgress, DeployResult, StageEvent, StageResult } from './deploy/types.js';
export { checkRegistryCredentials, registrySecret, registrySecretForms, type RegistryCredentials } from './deploy/pull-secrets.js';
export { applySecretValues, type SecretValues } from './deploy/input-secrets.js';
export { runSecretRefs, secretRefSource } from './deploy/secrets.js';
export { problemsLine, renderDiff, renderObjectLines, verdictLine } from './deploy/dry-run-report.js';
export { findPreviewNamespaces } from './deploy/previews.js';
export type { ServerCheckResult } from './deploy/dry-run.js';
export type { TeardownResult } from './deploy/teardown.js';
export type { RunnerPhase, RunnerProgress, RunnerStatus } from './runner/index.js';

// Lazy entry functions: each resolves to the module, loading client-node (or the YAML library) with it on first use.
/** The API client, kubeconfig loading and watches (kube/index.ts). */
export const loadKube = () => import('./kube/index.js');
/** `deployProject` (deploy/deploy.ts). */
export const loadDeploy = () => import('./deploy/deploy.js');
/** `teardownProject` (deploy/teardown.ts). */
export const loadTeardown = () => import('./deploy/teardown.js');
/** `checkOnServer`, the server-side dry run of a plan (deploy/dry-run.ts). */
export const loadDryRun = () => import('./deploy/dry-run.js');
/** The namespace's deploy lock (deploy/lock.ts). */
export const loadLock = () => import('./deploy/lock.js');
/** `jobOutcome` and the batch stages' Jobs (deploy/batch-stage.ts). */
export const loadBatchStage = () => import('./deploy/batch-stage.js');
/** `renderPlanYaml` (plan/render.ts), with the YAML library. */
export const loadPlanYaml = () => import('./plan/render.js');
/** The in-cluster runner (runner/index.ts). */
export const loadRunner = () => import('./runner/index.js');
