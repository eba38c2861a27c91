/**
 * Deployment rollouts, as pure functions over the objects: `kubectl rollout status`'s verdict, the controller's
 * ReplicaFailure, the new ReplicaSet, and `kubectl rollout undo`'s choice of the revision to go back to and its effect.
 * Waiting for a rollout (the watches) is rollout-wait.ts.
 */
import type { V1Deployment, V1PodTemplateSpec, V1ReplicaSet } from '@kubernetes/client-node';
import { ANNOTATION_STAGE, LABEL_GIT_COMMIT } from '../plan/index.js';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
/** Annotations of ours on a Deployment that describe the version it runs (restored from the ReplicaSet on rollback). */
const VERSION_ANNOTATION_PREFIX = 'bodywork.dev/';

/** The `deployment.kubernetes.io/revision` annotation as a number (undefined when absent or not a number). */
export function revisionOf(o: { metadata?: { annotations?: Record<string, string> } } | undefined): number | undefined {
  const raw = o?.metadata?.annotations?.[REVISION_ANNOTATION];
  if (raw === undefined || !/^\d+$/.test(raw.trim())) return undefined;
  return Number(raw);
}

export interface RolloutStatus {
  state: 'waiting' | 'complete' | 'failed';
  /** kubectl's words: `Waiting for deployment "x" rollout to finish: 1 of 2 updated replicas are available...`. */
  message: string;
}

/** `kubectl rollout status deployment/x`, one evaluation (kubernetes-semantics.md §3.3). */
export function rolloutStatus(d: V1Deployment): RolloutStatus {
  const name = d.metadata?.name ?? '';
  const generation = d.metadata?.generation ?? 0;
  const st = d.status ?? {};
  if (generation > (st.observedGeneration ?? 0)) return { state: 'waiting', message: 'Waiting for deployment spec update to be observed...' };
  const progressing = (st.conditions ?? []).find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') return { state: 'failed', message: `deployment "${name}" exceeded its progress deadline` };
  const replicas = d.spec?.replicas;
  const updated = st.updatedReplicas ?? 0;
  if (replicas !== undefined && updated < replicas) {
    return { state: 'waiting', message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${replicas} new replicas have been updated...` };
  }
  if ((st.replicas ?? 0) > updated) {
    return { state: 'waiting', message: `Waiting for deployment "${name}" rollout to finish: ${(st.replicas ?? 0) - updated} old replicas are pending termination...` };
  }
  if ((st.availableReplicas ?? 0) < updated) {
    return { state: 'waiting', message: `Waiting for deployment "${name}" rollout to finish: ${st.availableReplicas ?? 0} of ${updated} updated replicas are available...` };
  }
  return { state: 'complete', message: `deployment "${name}" successfully rolled out` };
}

/**
 * The controller could not create (or delete) the new ReplicaSet's pods: the `ReplicaFailure` condition it mirrors from
 * the ReplicaSet (quota exceeded, a missing ServiceAccount, an admission webhook's refusal). Not a `kubectl rollout
 * status` rule, but no pod will come until something else changes, so a rollout fails on it at once.
 */
export function replicaFailure(d: V1Deployment): string | undefined {
  if ((d.metadata?.generation ?? 0) > (d.status?.observedGeneration ?? 0)) return undefined;
  const c = (d.status?.conditions ?? []).find((x) => x.type === 'ReplicaFailure' && x.status === 'True');
  if (!c) return undefined;
  return `ReplicaFailure${c.reason ? ` (${c.reason})` : ''}: ${(c.message ?? 'the controller could not create the pods').replace(/\s+/g, ' ').trim()}`;
}

function controlledBy(rs: V1ReplicaSet, uid: string | undefined): boolean {
  return uid !== undefined && (rs.metadata?.ownerReferences ?? []).some((r) => r.controller === true && r.uid === uid);
}

/**
 * The Deployment's current ("new") ReplicaSet: controlled by it and carrying its revision, once the controller has
 * observed the Deployment's latest generation (it creates or adopts the new ReplicaSet before writing that status).
 */
export function findNewReplicaSet(d: V1Deployment, replicaSets: Iterable<V1ReplicaSet>): V1ReplicaSet | undefined {
  if ((d.metadata?.generation ?? 0) > (d.status?.observedGeneration ?? 0)) return undefined;
  const revision = revisionOf(d);
  if (revision === undefined) return undefined;
  for (const rs of replicaSets) if (controlledBy(rs, d.metadata?.uid) && revisionOf(rs) === revision) return rs;
  return undefined;
}

/**
 * `kubectl rollout undo`'s target: of the ReplicaSets the Deployment controls, the one with the highest revision below
 * `currentRevision`, compared as numbers (Bodywork compared strings, so revision 9 beat 10: bodywork-behaviour.md §7).
 */
export function chooseRollbackTarget(deploymentUid: string | undefined, replicaSets: Iterable<V1ReplicaSet>, currentRevision: number): V1ReplicaSet | undefined {
  let best: V1ReplicaSet | undefined;
  let bestRevision = -1;
  for (const rs of replicaSets) {
    if (!controlledBy(rs, deploymentUid)) continue;
    const r = revisionOf(rs);
    if (r === undefined || r >= currentRevision || r <= bestRevision) continue;
    best = rs;
    bestRevision = r;
  }
  return best;
}

/** The ReplicaSet's pod template as a Deployment template: without the `pod-template-hash` label (as kubectl strips it). */
export function templateOf(rs: V1ReplicaSet): V1PodTemplateSpec {
  return stripTemplate(rs.spec?.template);
}

/** A pod template without `pod-template-hash` and with only labels and annotations in its metadata. */
export function stripTemplate(template: V1PodTemplateSpec | undefined): V1PodTemplateSpec {
  const t = structuredClone(template ?? {});
  const labels = { ...t.metadata?.labels };
  delete labels[POD_TEMPLATE_HASH_LABEL];
  const annotations = t.metadata?.annotations;
  t.metadata = { labels, ...(annotations && Object.keys(annotations).length > 0 ? { annotations } : {}) };
  return t;
}

/**
 * The Deployment to server-side apply to roll back to `rs`: the planned Deployment with `rs`'s pod template (minus
 * `pod-template-hash`) and the version annotations/labels it was deployed with. This is `kubectl rollout undo`'s
 * effect (it JSON-patches `/spec/template` and `/metadata/annotations`) made with our own apply, so our field manager
 * keeps owning exactly the fields the Deployment has: a JSON patch would make the restored template fields another
 * (Update) manager's, and the next apply could then no longer remove any of them (an env var dropped in the next
 * version would silently stay).
 */
export function rollbackManifest(planned: V1Deployment, rs: V1ReplicaSet): V1Deployment {
  const template = templateOf(rs);
  const rsAnnotations = rs.metadata?.annotations ?? {};
  const plannedAnnotations = planned.metadata?.annotations ?? {};
  const annotations: Record<string, string> = {};
  // Our version annotations as the ReplicaSet recorded them (it copies the Deployment's when it becomes the new one).
  for (const [k, v] of Object.entries(rsAnnotations)) if (k.startsWith(VERSION_ANNOTATION_PREFIX)) annotations[k] = v;
  for (const [k, v] of Object.entries(plannedAnnotations)) if (!k.startsWith(VERSION_ANNOTATION_PREFIX) || k === ANNOTATION_STAGE) annotations[k] = v;
  const labels: Record<string, string> = { ...planned.metadata?.labels };
  const commit = template.metadata?.labels?.[LABEL_GIT_COMMIT];
  if (commit !== undefined) labels[LABEL_GIT_COMMIT] = commit;
  else delete labels[LABEL_GIT_COMMIT];
  return {
    ...planned,
    metadata: { ...planned.metadata, labels, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) },
    spec: { ...planned.spec!, template },
  };
}
