/**
 * The Recreate strategy (K pkg/controller/deployment/recreate.go): scale every old ReplicaSet to zero, wait until no
 * old pod runs, then create and scale up the new one.
 */
import { controllerRef } from '../../machinery/owners.js';
import { isTerminal } from '../../machinery/pods.js';
import type { KubeObject } from '../../types.js';
import { cleanupDeployment } from './history.js';
import { syncRolloutStatus } from './progress.js';
import type { DeploymentEnv, Rollout } from './state.js';
import { calculateStatus, getNewReplicaSet, scaleInPlace } from './sync.js';
import { deploymentComplete, specReplicas } from './util.js';

/** rolloutRecreate. */
export function rolloutRecreate(env: DeploymentEnv, r: Rollout, rsList: KubeObject[]): void {
  getNewReplicaSet(env, r, rsList, false);
  if (scaleDownOldReplicaSets(env, r)) return syncRolloutStatus(env, r);
  if (oldPodsRunning(env, r)) return syncRolloutStatus(env, r);
  if (!r.newRS) {
    getNewReplicaSet(env, r, rsList, true);
    return syncRolloutStatus(env, r);
  }
  const replicas = r.d.spec?.replicas ?? 1;
  if (specReplicas(r.newRS) !== replicas) {
    scaleInPlace(env, r, r.newRS, replicas);
    return syncRolloutStatus(env, r);
  }
  if (deploymentComplete(r.d, calculateStatus(env, r))) cleanupDeployment(env, r);
  syncRolloutStatus(env, r);
}

/** scaleDownOldReplicaSetsForRecreate: returns whether any was scaled. */
function scaleDownOldReplicaSets(env: DeploymentEnv, r: Rollout): boolean {
  let scaled = false;
  for (const rs of r.oldRSs) {
    if (specReplicas(rs) === 0) continue;
    scaleInPlace(env, r, rs, 0);
    scaled = true;
  }
  return scaled;
}

/** oldPodsRunning: a pod of an old ReplicaSet still runs or is being deleted. */
function oldPodsRunning(env: DeploymentEnv, r: Rollout): boolean {
  if (r.oldRSs.some((rs) => (rs.status?.replicas ?? 0) > 0)) return true;
  const oldUIDs = new Set(r.oldRSs.map((rs) => rs.metadata.uid));
  return env.store
    .view('pods', r.d.metadata.namespace)
    .some((p) => oldUIDs.has(controllerRef(p)?.uid) && !isTerminal(p));
}
