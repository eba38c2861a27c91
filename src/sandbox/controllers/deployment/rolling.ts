/**
 * The RollingUpdate strategy (K pkg/controller/deployment/rolling.go): grow the new ReplicaSet within maxSurge, shrink
 * the old ones within maxUnavailable, unhealthy replicas first.
 */
import type { KubeObject } from '../../types.js';
import { cleanupDeployment } from './history.js';
import { syncRolloutStatus } from './progress.js';
import type { DeploymentEnv, Rollout } from './state.js';
import { calculateStatus, getNewReplicaSet, scaleInPlace } from './sync.js';
import { byCreation, deploymentComplete, maxUnavailableOf, newRSNewReplicas, specReplicas } from './util.js';

/** rolloutRolling. */
export function rolloutRolling(env: DeploymentEnv, r: Rollout, rsList: KubeObject[]): void {
  getNewReplicaSet(env, r, rsList, true);
  if (reconcileNewReplicaSet(env, r)) return syncRolloutStatus(env, r);
  if (reconcileOldReplicaSets(env, r)) return syncRolloutStatus(env, r);
  if (deploymentComplete(r.d, calculateStatus(env, r))) cleanupDeployment(env, r);
  syncRolloutStatus(env, r);
}

/** reconcileNewReplicaSet: down to spec.replicas, or up as far as maxSurge allows. Returns whether it scaled. */
function reconcileNewReplicaSet(env: DeploymentEnv, r: Rollout): boolean {
  const replicas = r.d.spec?.replicas ?? 1;
  const newRS = r.newRS!;
  if (specReplicas(newRS) > replicas) {
    scaleInPlace(env, r, newRS, replicas);
    return true;
  }
  if (specReplicas(newRS) < replicas) {
    const target = newRSNewReplicas(r.d, [newRS, ...r.oldRSs], newRS);
    if (target !== specReplicas(newRS)) {
      scaleInPlace(env, r, newRS, target);
      return true;
    }
  }
  return false;
}

/** reconcileOldReplicaSets: returns whether any old ReplicaSet was scaled down. */
function reconcileOldReplicaSets(env: DeploymentEnv, r: Rollout): boolean {
  const d = r.d;
  const oldPods = r.oldRSs.reduce((s, rs) => s + specReplicas(rs), 0);
  if (oldPods === 0) return false;
  const allPods = [r.newRS!, ...r.oldRSs].reduce((s, rs) => s + specReplicas(rs), 0);
  const minAvailable = (d.spec?.replicas ?? 1) - maxUnavailableOf(d);
  const newRSUnavailable = specReplicas(r.newRS!) - (r.newRS!.status?.availableReplicas ?? 0);
  const maxScaledDown = allPods - minAvailable - newRSUnavailable;
  if (maxScaledDown <= 0) return false;
  const cleaned = cleanupUnhealthyReplicas(env, r, maxScaledDown);
  const scaledDown = scaleDownOldReplicaSets(env, r, minAvailable);
  return cleaned + scaledDown > 0;
}

/** cleanupUnhealthyReplicas: unhealthy old replicas first, oldest RS first, at most `max`. */
function cleanupUnhealthyReplicas(env: DeploymentEnv, r: Rollout, max: number): number {
  let cleaned = 0;
  for (const rs of [...r.oldRSs].sort(byCreation)) {
    if (cleaned >= max) break;
    if (specReplicas(rs) === 0) continue;
    const unhealthy = specReplicas(rs) - (rs.status?.availableReplicas ?? 0);
    if (unhealthy <= 0) continue;
    const n = Math.min(max - cleaned, unhealthy);
    scaleInPlace(env, r, rs, specReplicas(rs) - n);
    cleaned += n;
  }
  return cleaned;
}

/** scaleDownOldReplicaSetsForRollingUpdate: healthy ones while availability stays above minAvailable. */
function scaleDownOldReplicaSets(env: DeploymentEnv, r: Rollout, minAvailable: number): number {
  const available = [r.newRS!, ...r.oldRSs].reduce((s, rs) => s + (rs.status?.availableReplicas ?? 0), 0);
  if (available <= minAvailable) return 0;
  const total = available - minAvailable;
  let scaledDown = 0;
  for (const rs of [...r.oldRSs].sort(byCreation)) {
    if (scaledDown >= total) break;
    if (specReplicas(rs) === 0) continue;
    const n = Math.min(specReplicas(rs), total - scaledDown);
    scaleInPlace(env, r, rs, specReplicas(rs) - n);
    scaledDown += n;
  }
  return scaledDown;
}
