/**
 * What a pod override (bodywork-deploy.yaml, config/overrides.ts) may not set, and why: the parts of a stage's pod the
 * deployer itself depends on. The one list of them; the config check refuses each at its line, and the plan applies
 * only overrides that passed it.
 *
 * A field is named by its scope (`pod`: the pod template's fields, `metadata` included; `container`: the stage's
 * container) and its path of field names below it (`resources.requests`). A rule refuses the whole field, or only some
 * keys of a map field (`metadata.labels`), or some items of a list field (`volumes` by name).
 */
import { CODE_VOLUME_NAME } from './bundle.js';
import { CODE_MOUNT_PATH, notebookEnv, PROJECT_MOUNT_PATH, WORKING_COPY_VOLUME_NAME } from './command.js';
import { GIT_INIT_CONTAINER_NAME, GIT_VOLUME_NAME } from './git-source.js';
import { LABEL_APP, LABEL_COMPONENT, LABEL_DEPLOYMENT_NAME, LABEL_GIT_COMMIT, LABEL_MANAGED_BY, LABEL_PART_OF, LABEL_STAGE } from './labels.js';

export type OverrideScope = 'pod' | 'container';

export type ContractRule =
  | { scope: OverrideScope; field: string; why: string }
  | { scope: OverrideScope; field: string; key: (key: string) => boolean; why: string }
  | { scope: OverrideScope; field: string; item: (item: Record<string, unknown>) => boolean; why: string };

/** Labels the engine puts on every stage pod: it selects and identifies the stage's pods (and prunes) by them. */
const ENGINE_LABELS = new Set([LABEL_STAGE, LABEL_PART_OF, LABEL_MANAGED_BY, LABEL_COMPONENT, LABEL_APP, LABEL_DEPLOYMENT_NAME, LABEL_GIT_COMMIT]);
/** Labels the Deployment and Job controllers set on the pods they create (a template may not hold them). */
const CONTROLLER_LABELS = new Set(['pod-template-hash', 'job-name', 'controller-uid']);
/** The engine's label and annotation prefix (run id, commit, stage name, code hash). */
const ENGINE_PREFIX = 'bodywork.dev/';
/** Environment variables the engine sets in the stage container (plan.ts `container`; a notebook's, command.ts). */
const ENGINE_ENV = new Set(['BODYWORK_STAGE', 'GIT_COMMIT_HASH', 'PYTHONPATH', 'PYTHONUNBUFFERED', ...notebookEnv({ executable: 'any.ipynb' }).map((e) => e.name)]);
/** The volumes that bring the project code into the pod, and the working copy the stage runs in. */
const CODE_VOLUMES = new Set([CODE_VOLUME_NAME, GIT_VOLUME_NAME, WORKING_COPY_VOLUME_NAME]);
/** Where the code and the working copy are mounted: `/bodywork` and everything below it. */
const ENGINE_MOUNT_ROOT = '/bodywork';

const underEngineRoot = (path: unknown): boolean => typeof path === 'string' && (path.replace(/\/+$/, '') === ENGINE_MOUNT_ROOT || path.startsWith(`${ENGINE_MOUNT_ROOT}/`));

export const CONTRACT: readonly ContractRule[] = [
  // The pod
  {
    scope: 'pod',
    field: 'metadata.labels',
    key: (k) => ENGINE_LABELS.has(k),
    why: 'the engine sets this label on every stage pod and selects the stage\'s pods by the engine\'s labels (Deployment selector, Service, logs, prune)',
  },
  { scope: 'pod', field: 'metadata.labels', key: (k) => k.startsWith(ENGINE_PREFIX), why: `labels under ${ENGINE_PREFIX} are the engine's` },
  { scope: 'pod', field: 'metadata.labels', key: (k) => CONTROLLER_LABELS.has(k) || k.startsWith('batch.kubernetes.io/'), why: 'the Deployment and Job controllers set this label on the pods they create' },
  { scope: 'pod', field: 'metadata.annotations', key: (k) => k.startsWith(ENGINE_PREFIX), why: `annotations under ${ENGINE_PREFIX} record the deployed commit and run; the engine sets them` },
  {
    scope: 'pod',
    field: 'restartPolicy',
    why: 'the engine sets it: Never for batch stages (the Job counts each failed attempt against the stage\'s retries), Always for service stages (a Deployment allows nothing else)',
  },
  { scope: 'pod', field: 'activeDeadlineSeconds', why: 'the engine bounds each attempt from the stage\'s max_completion_time_seconds / MAX_COMPLETION_TIME_SECONDS; set that instead' },
  { scope: 'pod', field: 'containers', why: 'the stage container is the engine\'s; set its fields under container: instead' },
  { scope: 'pod', field: 'initContainers', why: `the engine's init container (${GIT_INIT_CONTAINER_NAME}) fills the code volume; extra init containers are not supported` },
  { scope: 'pod', field: 'ephemeralContainers', why: 'ephemeral containers are added to running pods (kubectl debug), never to a template' },
  { scope: 'pod', field: 'volumes', item: (v) => CODE_VOLUMES.has(String(v.name)), why: 'this volume brings the project code into the stage (or holds the working copy it runs in); the engine defines it' },
  { scope: 'pod', field: 'serviceAccount', why: 'a deprecated alias of serviceAccountName; set serviceAccountName instead' },
  // The stage's container
  { scope: 'container', field: 'name', why: 'the engine finds the stage container (its logs, its exit code) by its name' },
  { scope: 'container', field: 'image', why: 'the project config (docker_image / DOCKER_IMAGE) or the image input owns the image' },
  { scope: 'container', field: 'command', why: 'the engine\'s command copies the code, installs the requirements and runs the stage\'s script within its time limit' },
  { scope: 'container', field: 'args', why: 'the engine\'s command runs the stage\'s script; set the script\'s args in the project config' },
  { scope: 'container', field: 'restartPolicy', why: 'only init containers (sidecars) have a restartPolicy' },
  { scope: 'container', field: 'readinessProbe', why: 'the engine\'s readiness probe decides when a service stage is up (max_startup_time_seconds)' },
  { scope: 'container', field: 'startupProbe', why: 'the engine\'s startup probe enforces the service stage\'s max_startup_time_seconds' },
  {
    scope: 'container',
    field: 'livenessProbe',
    why: 'the engine\'s liveness probe (schema "1.1" services) goes with its startup probe; a probe merged into it would hold two handlers',
  },
  {
    scope: 'container',
    field: 'resources.requests',
    key: (k) => k === 'cpu' || k === 'memory',
    why: 'the project config owns the stage\'s requests: set cpu_request / memory_request_mb (CPU_REQUEST / MEMORY_REQUEST_MB) there',
  },
  { scope: 'container', field: 'env', item: (e) => ENGINE_ENV.has(String(e.name)), why: 'the engine sets this variable (the stage name, the commit, the project on the Python path, unbuffered output, a notebook\'s Jupyter state)' },
  {
    scope: 'container',
    field: 'volumeMounts',
    item: (m) => underEngineRoot(m.mountPath) || CODE_VOLUMES.has(String(m.name)),
    why: `${CODE_MOUNT_PATH} (the project code) and ${PROJECT_MOUNT_PATH} (the working copy the stage runs in, emptied at every start) are the engine's; mount elsewhere, outside ${ENGINE_MOUNT_ROOT}`,
  },
];

/** Why a whole field is refused (`pod` `restartPolicy`), if it is. */
export function refusedField(scope: OverrideScope, field: string): string | undefined {
  return CONTRACT.find((r) => r.scope === scope && r.field === field && !('key' in r) && !('item' in r))?.why;
}

/** Why a key of a map field is refused (`pod` `metadata.labels` `stage`), if it is. */
export function refusedKey(scope: OverrideScope, field: string, key: string): string | undefined {
  for (const r of CONTRACT) if (r.scope === scope && r.field === field && 'key' in r && r.key(key)) return r.why;
  return undefined;
}

/** Why an item of a list field is refused (`pod` `volumes` `{name: bodywork-project}`), if it is. */
export function refusedItem(scope: OverrideScope, field: string, item: Record<string, unknown>): string | undefined {
  for (const r of CONTRACT) if (r.scope === scope && r.field === field && 'item' in r && r.item(item)) return r.why;
  return undefined;
}
