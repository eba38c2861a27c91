/**
 * Pruning, after a successful run: what earlier runs left behind that the project no longer has.
 *
 * - Stage objects (Deployments, Services, Ingresses, Jobs) carrying this project's labels (managed-by
 *   bodywork-deploy, part-of <project>) whose `stage` label is no stage of the DAG (nor the run_on_failure stage)
 *   any more; and objects of a stage that changed its type (a Job of what is now a service stage, a Deployment of
 *   what is now a batch stage) or dropped its ingress, or whose Deployment, Service or Ingress has a name the stage no
 *   longer gets (its project's schema changed). Deleted with Background propagation (pods go with them).
 * - Code ConfigMaps (bundles, `bodywork.dev/code-hash`) of the project that are not the current bundle and that no
 *   Deployment, ReplicaSet, Job, Pod or CronJob (the in-cluster runner's schedule) in the namespace refers to any more. A rollout's old ReplicaSets keep their
 *   bundle (so `kubectl rollout undo` still works); objects already being deleted, and dependents of deleted
 *   owners (the pods of a Job deleted in the background), do not count.
 *
 * The stages of the DAG come from the project config, not the plan: a plan of a few stages (`--stages`) must not
 * prune the others. Never throws: failures are logged as warnings (the deployment itself succeeded).
 */
import type { KubernetesObject, V1ObjectMeta, V1PodSpec, V1PodTemplateSpec } from '@kubernetes/client-node';
import type { ProjectSpec } from '../config/spec.js';
import type { KubeClient } from '../kube/index.js';
import type { Logger } from '../logger.js';
import { LABEL_STAGE, stageLabelValue, stageObjectName, type DeployPlan } from '../plan/index.js';
import { errorMessage } from '../errors.js';

/** Label on code ConfigMaps (plan/bundle.ts). */
const LABEL_CODE_HASH = 'bodywork.dev/code-hash';

export interface PruneOptions {
  client: KubeClient;
  logger: Logger;
  spec: ProjectSpec;
  plan: DeployPlan;
  namespace: string;
  signal?: AbortSignal;
}

export interface PrunedObject {
  kind: string;
  name: string;
  reason: string;
}

export interface PruneResult {
  /** What was deleted, in order. */
  pruned: PrunedObject[];
  /** Failures (also logged as warnings). */
  errors: string[];
}

/** Kinds a stage owns and the stage types that legitimately have them. */
const STAGE_KINDS = ['Deployment', 'Service', 'Ingress', 'Job'] as const;
type StageKind = (typeof STAGE_KINDS)[number];

/** A Pod, a workload with a pod template, or a CronJob with a Job template. */
type Obj = KubernetesObject & { spec?: { template?: V1PodTemplateSpec; jobTemplate?: { spec?: { template?: V1PodTemplateSpec } } } & Partial<V1PodSpec> };

function selectorOf(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** ConfigMap names a pod spec refers to (volumes, projected volumes, env and envFrom). */
export function configMapRefs(pod: V1PodSpec | undefined): string[] {
  if (!pod) return [];
  const names: string[] = [];
  for (const v of pod.volumes ?? []) {
    if (v.configMap?.name) names.push(v.configMap.name);
    for (const s of v.projected?.sources ?? []) if (s.configMap?.name) names.push(s.configMap.name);
  }
  for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
    for (const e of c.env ?? []) if (e.valueFrom?.configMapKeyRef?.name) names.push(e.valueFrom.configMapKeyRef.name);
    for (const e of c.envFrom ?? []) if (e.configMapRef?.name) names.push(e.configMapRef.name);
  }
  return names;
}

/** Why a stage object should go, or undefined when it belongs to the current DAG. */
function pruneReason(spec: ProjectSpec, stages: Map<string, string>, kind: StageKind, meta: V1ObjectMeta | undefined): string | undefined {
  const label = meta?.labels?.[LABEL_STAGE];
  if (label === undefined) return undefined;
  const configName = stages.get(label);
  if (configName === undefined) return 'stage no longer in the DAG';
  const stage = spec.stages[configName];
  if (stage === undefined) return undefined;
  if (stage.type === 'batch' && kind !== 'Job') return `stage '${configName}' is now a batch stage`;
  if (stage.type === 'service' && kind === 'Job') return `stage '${configName}' is now a service stage`;
  if (stage.type === 'service' && kind === 'Ingress' && stage.service?.ingress === false) return `stage '${configName}' no longer has an ingress`;
  // A stage's Deployment, Service and Ingress are named after it (Jobs get a run suffix): another name is an earlier
  // naming of the stage (a project moved from schema "1.1" to "1.0" or back: `<stage>` vs `<project>--<stage>`).
  const name = stageObjectName(spec, configName);
  if (kind !== 'Job' && meta?.name !== name) return `stage '${configName}' is now named ${name}`;
  return undefined;
}

/** Deletes the project's objects of stages no longer in the DAG and its unused code bundles. */
export async function pruneProject(opts: PruneOptions): Promise<PruneResult> {
  const { client, logger, spec, plan, namespace: ns, signal } = opts;
  const result: PruneResult = { pruned: [], errors: [] };
  const fail = (what: string, e: unknown) => {
    const msg = `could not ${what}: ${errorMessage(e)}`;
    result.errors.push(msg);
    logger.warn(msg);
  };
  let listed: Listed;
  try {
    listed = await listObjects(client, ns, selectorOf(plan.labels), signal);
  } catch (e) {
    fail(`list the objects to prune in namespace=${ns}`, e);
    return result;
  }

  const stale = staleStageObjects(spec, listed.stageObjects);
  const referenced = referencedConfigMaps(listed.refHolders, stale.uids);
  const current = new Set(plan.setup.filter((o) => o.kind === 'ConfigMap').map((o) => o.metadata?.name ?? ''));
  const bundleDeletes: PrunedObject[] = listed.configMaps
    .filter((cm) => !cm.metadata?.deletionTimestamp)
    .map((cm) => cm.metadata?.name ?? '')
    .filter((name) => name !== '' && !current.has(name) && !referenced.has(name))
    .map((name) => ({ kind: 'ConfigMap', name, reason: 'code bundle no longer used' }));

  for (const p of [...stale.deletes, ...bundleDeletes]) {
    try {
      if (await client.delete(p.kind, ns, p.name, { propagationPolicy: 'Background', signal })) {
        result.pruned.push(p);
        logger.info(`pruned ${p.kind}/${p.name} (${p.reason})`);
      }
    } catch (e) {
      fail(`prune ${p.kind}/${p.name} in namespace=${ns}`, e);
    }
  }
  if (result.pruned.length === 0 && result.errors.length === 0) logger.debug(`nothing to prune in namespace=${ns}`);
  return result;
}

/** What pruning looks at: the project's stage objects and code bundles, and every workload that may mount a bundle. */
export interface Listed {
  stageObjects: { kind: StageKind; items: Obj[] }[];
  configMaps: KubernetesObject[];
  refHolders: { kind: string; items: Obj[] }[];
}

async function listObjects(client: KubeClient, ns: string, selector: string, signal: AbortSignal | undefined): Promise<Listed> {
  // All read at once: each list is a snapshot of its own, taken in any order, and the deploy lock keeps this project's
  // own writes away meanwhile.
  const [stageObjects, configMaps, refHolders, cronJobs] = await Promise.all([
    Promise.all(STAGE_KINDS.map(async (kind) => ({ kind, items: (await client.list<Obj>(kind, ns, { labelSelector: selector, signal })).items }))),
    client.list<KubernetesObject>('ConfigMap', ns, { labelSelector: `${selector},${LABEL_CODE_HASH}`, signal }).then((l) => l.items),
    // Every workload in the namespace, ours or not: a bundle someone still mounts stays.
    Promise.all(['Deployment', 'ReplicaSet', 'Job', 'Pod'].map(async (kind) => ({ kind, items: (await client.list<Obj>(kind, ns, { signal })).items }))),
    // The in-cluster runner's schedule mounts the bundle of its project in every run it starts. A kubeconfig that
    // may not list CronJobs (the README's RBAC before schedules) has made none: nothing to keep for them.
    client.list<Obj>('CronJob', ns, { signal }).then((l) => l.items, () => []),
  ]);
  refHolders.push({ kind: 'CronJob', items: cronJobs });
  return { stageObjects, configMaps, refHolders };
}

/** The stage objects to delete (see `pruneReason`), in list order, and their uids. */
function staleStageObjects(spec: ProjectSpec, lists: Listed['stageObjects']): { deletes: PrunedObject[]; uids: Set<string> } {
  // `stage` label -> stage name in the config, for every stage the project deploys: the object name, and a
  // Deployment's own label where the format's Bodywork version gave it the stage's name (INI, schema "1.0").
  const stages = new Map<string, string>();
  for (const s of [...spec.dag.flat(), ...(spec.runOnFailure !== undefined ? [spec.runOnFailure] : [])]) {
    const name = stageObjectName(spec, s);
    stages.set(name, s);
    stages.set(stageLabelValue(spec, s, name, 'Deployment'), s);
  }
  const deletes: PrunedObject[] = [];
  const uids = new Set<string>();
  for (const { kind, items } of lists) {
    for (const o of items) {
      if (o.metadata?.deletionTimestamp) continue;
      const reason = pruneReason(spec, stages, kind, o.metadata);
      if (reason === undefined) continue;
      if (o.metadata?.uid) uids.add(o.metadata.uid);
      deletes.push({ kind, name: o.metadata?.name ?? '', reason });
    }
  }
  return { deletes, uids };
}

/** Kinds whose objects' deletion takes their dependents with them (the garbage collector's). */
const OWNER_KINDS = new Set(['Deployment', 'ReplicaSet', 'Job']);

/**
 * ConfigMaps still referred to by a live object: not being deleted, not pruned now (`doomed`), and not the dependent
 * of an owner that is gone or going (the pods of a Job deleted in the background).
 */
export function referencedConfigMaps(refHolders: Listed['refHolders'], doomed: Set<string>): Set<string> {
  const byUid = new Map<string, Obj>();
  for (const { items } of refHolders) for (const o of items) if (o.metadata?.uid) byUid.set(o.metadata.uid, o);
  const aliveMemo = new Map<string, boolean>();
  const alive = (o: Obj, depth = 0): boolean => {
    const uid = o.metadata?.uid ?? '';
    const memo = aliveMemo.get(uid);
    if (memo !== undefined) return memo;
    let ok = !o.metadata?.deletionTimestamp && !doomed.has(uid);
    const owner = o.metadata?.ownerReferences?.find((r) => r.controller);
    if (ok && owner && OWNER_KINDS.has(owner.kind) && depth < 5) {
      const ownerObj = byUid.get(owner.uid);
      // The owner is gone: the garbage collector deletes this one too.
      ok = ownerObj !== undefined && alive(ownerObj, depth + 1);
    }
    aliveMemo.set(uid, ok);
    return ok;
  };
  const referenced = new Set<string>();
  for (const { kind, items } of refHolders) {
    for (const o of items) {
      if (!alive(o)) continue;
      for (const name of configMapRefs(podSpecOf(kind, o))) referenced.add(name);
    }
  }
  return referenced;
}

/** The pod spec of a Pod, a CronJob (its Job template's) or a workload (its template's). */
function podSpecOf(kind: string, o: Obj): V1PodSpec | undefined {
  if (kind === 'Pod') return o.spec as V1PodSpec | undefined;
  if (kind === 'CronJob') return o.spec?.jobTemplate?.spec?.template?.spec;
  return o.spec?.template?.spec;
}
