/**
 * The Deployment's arithmetic and vocabulary (K pkg/controller/deployment/util/deployment_util.go): annotation and
 * reason names, the pod-template hash, fenceposts, conditions and the complete/progressing/timed-out predicates.
 */
import { findCondition, withoutCondition } from '../../machinery/conditions.js';
import { canonicalJSON, clone, deepEqual, scaledValue } from '../../machinery/objects.js';
import { nowRFC3339, parseTime } from '../../machinery/time.js';
import type { KubeObject } from '../../types.js';

export const SOURCE = 'deployment-controller';
export const HASH_LABEL = 'pod-template-hash';
export const REVISION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
export const DESIRED = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

// Reasons (deployment_util.go).
export const NewReplicaSetReason = 'NewReplicaSetCreated';
export const FoundNewRSReason = 'FoundNewReplicaSet';
export const ReplicaSetUpdatedReason = 'ReplicaSetUpdated';
export const NewRSAvailableReason = 'NewReplicaSetAvailable';
export const TimedOutReason = 'ProgressDeadlineExceeded';
export const MinimumReplicasAvailable = 'MinimumReplicasAvailable';
export const MinimumReplicasUnavailable = 'MinimumReplicasUnavailable';

// ---------------------------------------------------------------------------------------------------------------
// Hash (K pkg/controller/controller_utils.go ComputeHash; AM pkg/util/rand SafeEncodeString)

const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

function fnv32a(bytes: Uint8Array, h = 0x811c9dc5): number {
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * FNV-32a over a canonical rendering of the template (Go's DeepHashObject printing cannot be reproduced from JSON,
 * so values differ from a real cluster's, but they are stable and encoded the same way), plus the collision count
 * as 4 little-endian bytes, rendered with SafeEncodeString.
 */
export function computeHash(template: unknown, collisionCount?: number): string {
  let h = fnv32a(Buffer.from(canonicalJSON(template), 'utf8'));
  if (collisionCount !== undefined && collisionCount !== null) {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(collisionCount >>> 0);
    h = fnv32a(b, h);
  }
  return [...String(h)].map((c) => ALPHANUMS[c.charCodeAt(0) % ALPHANUMS.length]).join('');
}

export function templateWithoutHash(t: any): any {
  const c = clone(t ?? {});
  if (c.metadata?.labels) {
    delete c.metadata.labels[HASH_LABEL];
    if (Object.keys(c.metadata.labels).length === 0) delete c.metadata.labels;
  }
  if (c.metadata && Object.keys(c.metadata).length === 0) delete c.metadata;
  return c;
}

/** EqualIgnoreHash. */
export function equalIgnoreHash(a: any, b: any): boolean {
  return deepEqual(templateWithoutHash(a), templateWithoutHash(b));
}

// ---------------------------------------------------------------------------------------------------------------
// Replica counts

export const revisionOf = (o: KubeObject): number => {
  const v = Number(o.metadata.annotations?.[REVISION]);
  return Number.isFinite(v) ? v : 0;
};
export const specReplicas = (o: KubeObject): number => o.spec?.replicas ?? 0;
export const created = (o: KubeObject): number => parseTime(o.metadata.creationTimestamp) ?? 0;
export const byCreation = (a: KubeObject, b: KubeObject): number => created(a) - created(b) || (a.metadata.name! < b.metadata.name! ? -1 : 1);

interface Fenceposts {
  maxSurge: number;
  maxUnavailable: number;
}

/** ResolveFenceposts: surge rounds up, unavailable down; both 0 -> unavailable 1. */
export function resolveFenceposts(d: KubeObject): Fenceposts {
  const replicas = d.spec?.replicas ?? 1;
  const ru = d.spec?.strategy?.rollingUpdate ?? {};
  const maxSurge = scaledValue(ru.maxSurge, replicas, true, '25%');
  let maxUnavailable = scaledValue(ru.maxUnavailable, replicas, false, '25%');
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable };
}

export const isRolling = (d: KubeObject): boolean => (d.spec?.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';

export function maxUnavailableOf(d: KubeObject): number {
  const replicas = d.spec?.replicas ?? 1;
  if (!isRolling(d) || replicas === 0) return 0;
  return Math.min(resolveFenceposts(d).maxUnavailable, replicas);
}

export function maxSurgeOf(d: KubeObject): number {
  return isRolling(d) ? resolveFenceposts(d).maxSurge : 0;
}

/** NewRSNewReplicas: how far the new ReplicaSet may grow now. */
export function newRSNewReplicas(d: KubeObject, allRSs: KubeObject[], newRS: KubeObject | undefined): number {
  const replicas = d.spec?.replicas ?? 1;
  if (!isRolling(d)) return replicas;
  const maxSurge = resolveFenceposts(d).maxSurge;
  const current = allRSs.reduce((s, rs) => s + specReplicas(rs), 0);
  const max = replicas + maxSurge;
  const newSpec = newRS ? specReplicas(newRS) : 0;
  if (current >= max) return newSpec;
  const scaleUp = Math.min(max - current, replicas - newSpec);
  return newSpec + scaleUp;
}

// ---------------------------------------------------------------------------------------------------------------
// Conditions

export const cond = findCondition;

export function newCondition(now: number, type: string, status: string, reason: string, message: string): any {
  const t = nowRFC3339(now);
  return { type, status, lastUpdateTime: t, lastTransitionTime: t, reason, message };
}

/** SetDeploymentCondition: same status+reason is a no-op; same status keeps lastTransitionTime. */
export function setCondition(status: any, c: any): void {
  const cur = cond(status, c.type);
  if (cur && cur.status === c.status && cur.reason === c.reason) return;
  if (cur && cur.status === c.status) c.lastTransitionTime = cur.lastTransitionTime;
  status.conditions = [...withoutCondition(status.conditions, c.type), c];
}

export function removeCondition(status: any, type: string): void {
  status.conditions = withoutCondition(status.conditions, type);
}

// ---------------------------------------------------------------------------------------------------------------
// Rollout predicates

/** DeploymentComplete. */
export function deploymentComplete(d: KubeObject, st: any): boolean {
  const replicas = d.spec?.replicas ?? 1;
  return st.updatedReplicas === replicas && st.replicas === replicas && st.availableReplicas === replicas && st.observedGeneration >= (d.metadata.generation ?? 0);
}

/** DeploymentProgressing: the new status shows progress over the stored one. */
export function deploymentProgressing(d: KubeObject, st: any): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (st.replicas ?? 0) - (st.updatedReplicas ?? 0);
  return (
    (st.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (st.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (st.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
  );
}

/** HasProgressDeadline: set, and not the "never" value. */
export const hasDeadline = (d: KubeObject): boolean =>
  d.spec?.progressDeadlineSeconds !== undefined && d.spec?.progressDeadlineSeconds !== null && d.spec.progressDeadlineSeconds !== 2147483647;

/** DeploymentTimedOut. */
export function timedOut(d: KubeObject, st: any, now: number): boolean {
  if (!hasDeadline(d)) return false;
  const c = cond(st, 'Progressing');
  if (!c) return false;
  if (c.reason === NewRSAvailableReason) return false;
  if (c.reason === TimedOutReason) return true;
  const from = parseTime(c.lastUpdateTime) ?? now;
  return from + d.spec.progressDeadlineSeconds * 1000 < now;
}
