/**
 * `setupNamespace`: what Bodywork's `setup-namespace` did (bodywork-behaviour.md §2.1), idempotently:
 * the namespace is created when missing (with our project labels) and otherwise left as it is; the stage
 * ServiceAccount, Role and RoleBinding are applied (server-side apply: re-applying changes nothing); the code
 * ConfigMaps, immutable and named by content hash, are created only when missing (an immutable ConfigMap
 * cannot be changed, and one with that name already holds exactly that content).
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { isKubeStatus, type Manifest } from '../kube/index.js';
import { LABEL_PREVIEW_PR, type PlannedObject } from '../plan/index.js';
import type { DeployContext } from './types.js';
import { enforcedLevel } from './pod-security.js';

/** A namespace that cannot be used (being deleted). */
export class NamespaceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NamespaceError';
  }
}

export type NamespaceSetupContext = Pick<DeployContext, 'client' | 'logger' | 'plan' | 'namespace' | 'signal'>;

/** What `setupNamespace` did, for tests and summaries. */
export interface NamespaceSetupResult {
  namespaceCreated: boolean;
  serviceAccountCreated: boolean;
  /** Names of the code ConfigMaps created by this call (those already present are left alone). */
  configMapsCreated: string[];
}

function inNamespace<T extends PlannedObject>(obj: T, namespace: string): T {
  return { ...obj, metadata: { ...obj.metadata, namespace } } as T;
}

/** Creates `obj`; AlreadyExists (someone else created it meanwhile) counts as done. Resolves true when this call created it. */
async function createIfMissing(ctx: NamespaceSetupContext, obj: PlannedObject): Promise<boolean> {
  try {
    await ctx.client.create(obj as unknown as Manifest, { signal: ctx.signal });
    return true;
  } catch (e) {
    if (isKubeStatus(e, 409)) return false;
    throw e;
  }
}

/**
 * Creates the namespace when missing (with the plan's labels), logging `creating namespace=NS` /
 * `namespace=NS already exists`. Resolves whether this call created it and the Pod Security level an existing one
 * enforces. Throws `NamespaceError` when the namespace is being deleted.
 */
export async function ensureNamespace(ctx: NamespaceSetupContext): Promise<EnsuredNamespace> {
  const ns = ctx.namespace;
  const { client, logger, signal } = ctx;
  const namespaceObj = ctx.plan.setup.find((o) => o.kind === 'Namespace') ?? { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: ctx.plan.labels } };
  const existing = await client.find<KubernetesObject>('Namespace', undefined, ns, { signal });
  if (existing?.metadata?.deletionTimestamp) {
    throw new NamespaceError(`namespace=${ns} is being deleted; wait until it is gone (kubectl get namespace ${ns}) and deploy again`);
  }
  if (existing !== undefined) {
    logger.info(`namespace=${ns} already exists`);
    await markPreview(ctx, existing, namespaceObj);
    return { created: false, podSecurity: enforcedLevel(existing.metadata?.labels) };
  }
  logger.info(`creating namespace=${ns}`);
  return { created: await createIfMissing(ctx, { ...namespaceObj, metadata: { ...namespaceObj.metadata, name: ns } }) };
}

/**
 * A preview namespace this tool created for the project before previews were labelled (or whose labels someone
 * removed) gets the planned preview label and annotation, so a sweep finds it. Only ours: a namespace someone else
 * made is not relabelled (a sweep would then delete it whole).
 */
async function markPreview(ctx: NamespaceSetupContext, existing: KubernetesObject, planned: PlannedObject): Promise<void> {
  const want = { labels: planned.metadata?.labels ?? {}, annotations: planned.metadata?.annotations ?? {} };
  if (!(LABEL_PREVIEW_PR in want.labels)) return;
  const have = { labels: existing.metadata?.labels ?? {}, annotations: existing.metadata?.annotations ?? {} };
  const ours = Object.entries(ctx.plan.labels).every(([k, v]) => have.labels[k] === v);
  const missing = Object.entries(want.labels).some(([k, v]) => have.labels[k] !== v) || Object.entries(want.annotations).some(([k, v]) => have.annotations[k] !== v);
  if (!ours || !missing) return;
  ctx.logger.info(`labelling namespace=${ctx.namespace} as the preview of pull request ${want.labels[LABEL_PREVIEW_PR]}`);
  try {
    await ctx.client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ctx.namespace, labels: want.labels, annotations: want.annotations } } as Manifest, { signal: ctx.signal });
  } catch (e) {
    // A kubeconfig user without `patch` on namespaces can still deploy: the preview is only missed by sweeps.
    if (!isKubeStatus(e, 403)) throw e;
    ctx.logger.warn(`could not label namespace=${ctx.namespace} as a preview (no patch permission on namespaces): sweep-previews will not find it`);
  }
}

export interface EnsuredNamespace {
  /** This call created it. */
  created: boolean;
  /** The Pod Security level its label enforces (pod-security.ts), if any. */
  podSecurity?: string;
}

/**
 * Applies the stages' ServiceAccount, Role or RoleBinding; for the ServiceAccount, whether it existed before (not
 * looked up in a namespace just created: `fresh`).
 */
async function applyAccessObject(ctx: NamespaceSetupContext, obj: PlannedObject, fresh: boolean): Promise<'existed' | 'created' | 'applied'> {
  const ns = ctx.namespace;
  const name = obj.metadata?.name ?? '';
  const existed = obj.kind === 'ServiceAccount' ? !fresh && (await ctx.client.exists('ServiceAccount', ns, name, { signal: ctx.signal })) : undefined;
  const manifest =
    obj.kind === 'RoleBinding' ? { ...obj, subjects: (obj as { subjects?: { namespace?: string }[] }).subjects?.map((s) => ({ ...s, namespace: ns })) } : obj;
  await ctx.client.apply(inNamespace(manifest as PlannedObject, ns) as unknown as Manifest, { signal: ctx.signal });
  return existed === undefined ? 'applied' : existed ? 'existed' : 'created';
}

/**
 * Creates a code ConfigMap unless it exists (its name is the hash of its content, so an existing one is the same);
 * in a namespace just created (`fresh`), without looking first.
 */
async function ensureCodeConfigMap(ctx: NamespaceSetupContext, cm: PlannedObject, fresh: boolean): Promise<'existed' | 'created' | 'raced'> {
  if (!fresh && (await ctx.client.exists('ConfigMap', ctx.namespace, cm.metadata?.name ?? '', { signal: ctx.signal }))) return 'existed';
  return (await createIfMissing(ctx, inNamespace(cm, ctx.namespace))) ? 'created' : 'raced';
}

/**
 * Prepares the namespace for the plan's stages. Logs the tutorial's lines: `creating namespace=NS` /
 * `namespace=NS already exists`, `creating service-account=bodywork-stage in namespace=NS` /
 * `service-account=bodywork-stage already exists in namespace=NS`. Throws `KubeApiError` on API failures and
 * `NamespaceError` when the namespace is being deleted.
 */
export async function setupNamespace(ctx: NamespaceSetupContext, opts: { namespaceCreated?: boolean } = {}): Promise<NamespaceSetupResult> {
  const ns = ctx.namespace;
  const { logger } = ctx;
  const planned = ctx.plan.setup;
  const result: NamespaceSetupResult = { namespaceCreated: false, serviceAccountCreated: false, configMapsCreated: [] };

  // The namespace: here, unless the caller ensured it already (deployProject does, to lock the namespace first).
  result.namespaceCreated = opts.namespaceCreated ?? (await ensureNamespace(ctx)).created;
  // Just created: it holds nothing of ours yet, so nothing is looked up before it is written.
  const fresh = result.namespaceCreated;

  // Written concurrently, but each RoleBinding after the Roles: the API server lets a user who is not cluster-admin
  // (the README's RBAC, the in-cluster runner) bind only a Role it can read the rules of (its escalation check); the
  // log keeps the plan's order.
  const rbac = planned.filter((o) => o.kind === 'ServiceAccount' || o.kind === 'Role' || o.kind === 'RoleBinding');
  const configMaps = planned.filter((o) => o.kind === 'ConfigMap');
  const writeRbac = async () => {
    const first = await Promise.all(rbac.map((obj) => (obj.kind === 'RoleBinding' ? undefined : applyAccessObject(ctx, obj, fresh))));
    return Promise.all(rbac.map((obj, i) => (obj.kind === 'RoleBinding' ? applyAccessObject(ctx, obj, fresh) : first[i])));
  };
  const [applied, ensured] = await Promise.all([writeRbac(), Promise.all(configMaps.map((cm) => ensureCodeConfigMap(ctx, cm, fresh)))]);
  for (const [i, obj] of rbac.entries()) {
    const name = obj.metadata?.name ?? '';
    if (obj.kind === 'ServiceAccount') {
      if (applied[i] === 'existed') logger.info(`service-account=${name} already exists in namespace=${ns}`);
      else logger.info(`creating service-account=${name} in namespace=${ns}`);
      if (applied[i] === 'created') result.serviceAccountCreated = true;
    }
    logger.debug(`applied ${obj.kind} ${name} in namespace=${ns}`);
  }
  for (const [i, cm] of configMaps.entries()) {
    const name = cm.metadata?.name ?? '';
    if (ensured[i] === 'existed') logger.debug(`code config-map=${name} already exists in namespace=${ns}`);
    if (ensured[i] === 'created') {
      logger.info(`creating code config-map=${name} in namespace=${ns}`);
      result.configMapsCreated.push(name);
    }
  }
  return result;
}
