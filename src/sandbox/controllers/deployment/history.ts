/**
 * Revisions and history (K pkg/controller/deployment/sync.go getNewReplicaSet's annotation step and cleanupDeployment,
 * deployment_util.go SetNewReplicaSetAnnotations): the revision a ReplicaSet stands for, the revisions a reused one
 * stood for before (what `kubectl rollout undo` brings back), and how many old ones are kept.
 */
import { errorMessage } from '../../../engine/errors.js';
import { isNotFound } from '../../machinery/errors.js';
import type { KubeObject } from '../../types.js';
import type { DeploymentEnv, Rollout } from './state.js';
import { byCreation, DESIRED, LAST_APPLIED, MAX_REPLICAS, maxSurgeOf, REVISION, REVISION_HISTORY, revisionOf, specReplicas } from './util.js';

/** The revision the new ReplicaSet gets: one past the highest of the old ones. */
export function nextRevision(r: Rollout): number {
  return Math.max(0, ...r.oldRSs.map(revisionOf)) + 1;
}

/** SetNewReplicaSetAnnotations + copyDeploymentAnnotationsToReplicaSet. Returns whether rs changed. */
export function setNewRSAnnotations(d: KubeObject, rs: KubeObject, newRevision: number, exists: boolean): boolean {
  const before = JSON.stringify(rs.metadata.annotations ?? {});
  const ann: Record<string, string> = { ...(rs.metadata.annotations ?? {}) };
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) {
    if (k === LAST_APPLIED || k === REVISION || k === REVISION_HISTORY || k === DESIRED || k === MAX_REPLICAS) continue;
    ann[k] = v;
  }
  const oldRevision = ann[REVISION];
  const oldNum = Number(oldRevision ?? 0);
  if (!(oldNum >= newRevision)) {
    ann[REVISION] = String(newRevision);
    // A reused RS remembers the revisions it had (rollback), deployment_util.go SetNewReplicaSetAnnotations.
    if (exists && oldRevision) ann[REVISION_HISTORY] = ann[REVISION_HISTORY] ? `${ann[REVISION_HISTORY]},${oldRevision}` : oldRevision;
  }
  ann[DESIRED] = String(d.spec?.replicas ?? 1);
  ann[MAX_REPLICAS] = String((d.spec?.replicas ?? 1) + maxSurgeOf(d));
  rs.metadata.annotations = ann;
  return JSON.stringify(ann) !== before;
}

/** The deployment carries the new RS's revision annotation (sync.go; kubectl reads it). */
export function syncDeploymentRevision(env: DeploymentEnv, r: Rollout): void {
  const d = r.d;
  const rev = r.newRS?.metadata.annotations?.[REVISION];
  if (!rev || d.metadata.annotations?.[REVISION] === rev) return;
  const cur = env.store.get('apps/deployments', d.metadata.namespace, d.metadata.name!);
  cur.metadata.annotations = { ...(cur.metadata.annotations ?? {}), [REVISION]: rev };
  r.d = env.store.update('apps/deployments', d.metadata.namespace, d.metadata.name!, cur);
}

/** cleanupDeployment: delete old zero-replica RSs beyond revisionHistoryLimit, lowest revision first. */
export function cleanupDeployment(env: DeploymentEnv, r: Rollout): void {
  const limit = r.d.spec?.revisionHistoryLimit;
  if (limit === undefined || limit === null) return;
  const cleanable = r.oldRSs.filter((rs) => specReplicas(rs) === 0 && (rs.status?.replicas ?? 0) === 0 && !rs.metadata.deletionTimestamp);
  const diff = cleanable.length - limit;
  if (diff <= 0) return;
  cleanable.sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
  const doomed = cleanable.slice(0, diff);
  for (const rs of doomed) {
    try {
      env.store.delete('apps/replicasets', rs.metadata.namespace, rs.metadata.name!, { preconditions: { uid: rs.metadata.uid } });
    } catch (err) {
      if (!isNotFound(err)) env.log?.(`deployment-controller: cleanup ${rs.metadata.name}: ${errorMessage(err)}`);
    }
  }
  r.oldRSs = r.oldRSs.filter((rs) => !doomed.includes(rs));
}
