/**
 * Rollout progress (K pkg/controller/deployment/progress.go): the Progressing condition `kubectl rollout status`
 * reads (progressing, complete, or past progressDeadlineSeconds), ReplicaFailure mirrored from the new ReplicaSet,
 * and a requeue exactly when the deadline passes instead of polling.
 */
import { nowRFC3339, parseTime } from '../../machinery/time.js';
import type { KubeObject } from '../../types.js';
import type { DeploymentEnv, Rollout } from './state.js';
import { calculateStatus, writeStatus } from './sync.js';
import {
  cond,
  deploymentComplete,
  deploymentProgressing,
  hasDeadline,
  newCondition,
  NewRSAvailableReason,
  removeCondition,
  ReplicaSetUpdatedReason,
  setCondition,
  timedOut,
  TimedOutReason,
} from './util.js';

/** syncRolloutStatus. */
export function syncRolloutStatus(env: DeploymentEnv, r: Rollout): void {
  const d = r.d;
  const st = calculateStatus(env, r);
  if (!hasDeadline(d)) removeCondition(st, 'Progressing');
  const currentCond = cond(r.status, 'Progressing');
  const isComplete = st.replicas === st.updatedReplicas && currentCond?.reason === NewRSAvailableReason;
  if (hasDeadline(d) && !isComplete) updateProgressing(env, r, st);
  mirrorReplicaFailure(env, r, st);
  writeStatus(env, r, st);
  requeueStuckDeployment(env, d, st);
}

/** The Progressing condition for the status being written: complete, progressing, or timed out. */
function updateProgressing(env: DeploymentEnv, r: Rollout, st: any): void {
  const d = r.d;
  const now = env.clock.now();
  const newRSName = r.newRS?.metadata.name;
  const about = newRSName ? `ReplicaSet "${newRSName}"` : `Deployment "${d.metadata.name}"`;
  if (deploymentComplete(d, st)) {
    setCondition(st, newCondition(now, 'Progressing', 'True', NewRSAvailableReason, `${about} has successfully progressed.`));
  } else if (deploymentProgressing(d, st)) {
    const c = newCondition(now, 'Progressing', 'True', ReplicaSetUpdatedReason, `${about} is progressing.`);
    // Progressing is special: same reason still refreshes lastUpdateTime (progress.go comment).
    const cur = cond(st, 'Progressing');
    if (cur) {
      if (cur.status === 'True') c.lastTransitionTime = cur.lastTransitionTime;
      removeCondition(st, 'Progressing');
    }
    setCondition(st, c);
  } else if (timedOut(d, st, now)) {
    const msg = `${about} has timed out progressing.`;
    setCondition(st, newCondition(now, 'Progressing', 'False', TimedOutReason, msg));
    if (cond(d.status ?? {}, 'Progressing')?.reason !== TimedOutReason) env.event(d, 'Warning', 'ProgressDeadlineExceeded', msg);
  }
}

/** getReplicaFailures: ReplicaFailure is mirrored from the new RS. */
function mirrorReplicaFailure(env: DeploymentEnv, r: Rollout, st: any): void {
  const rsFailure = (r.newRS?.status?.conditions as any[] | undefined)?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
  if (rsFailure) {
    const at = nowRFC3339(env.clock.now());
    setCondition(st, { type: 'ReplicaFailure', status: 'True', lastUpdateTime: at, lastTransitionTime: rsFailure.lastTransitionTime, reason: rsFailure.reason, message: rsFailure.message });
  } else if (cond(st, 'ReplicaFailure')?.reason !== 'FailedCreate' || r.newRS) removeCondition(st, 'ReplicaFailure');
}

/** requeueStuckDeployment: wake up exactly when the deadline passes. */
function requeueStuckDeployment(env: DeploymentEnv, d: KubeObject, st: any): void {
  if (!hasDeadline(d)) return;
  const c = cond(st, 'Progressing');
  if (!c || c.reason === NewRSAvailableReason || c.reason === TimedOutReason) return;
  if (deploymentComplete(d, st)) return;
  const now = env.clock.now();
  const from = parseTime(c.lastUpdateTime) ?? now;
  const after = from + d.spec.progressDeadlineSeconds * 1000 - now;
  // lastUpdateTime has second precision: wake just after the deadline strictly passed.
  env.requeueAfter(`${d.metadata.namespace}/${d.metadata.name}`, Math.max(after, 0) + 1001);
}
