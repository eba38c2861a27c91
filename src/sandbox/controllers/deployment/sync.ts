/**
 * The sync steps shared by both strategies (K pkg/controller/deployment/sync.go): find or create the new ReplicaSet,
 * scale ReplicaSets (proportionally on a scaling event), compute and write the Deployment's status.
 */
import { errorMessage } from '../../../engine/errors.js';
import { httpCode } from '../../machinery/errors.js';
import { clone, deepEqual } from '../../machinery/objects.js';
import { controllerRef, ownerRefTo } from '../../machinery/owners.js';
import type { KubeObject } from '../../types.js';
import { nextRevision, setNewRSAnnotations, syncDeploymentRevision } from './history.js';
import { replace, type DeploymentEnv, type Rollout } from './state.js';
import {
  byCreation,
  computeHash,
  cond,
  created,
  DESIRED,
  equalIgnoreHash,
  FoundNewRSReason,
  HASH_LABEL,
  hasDeadline,
  isRolling,
  MAX_REPLICAS,
  maxSurgeOf,
  maxUnavailableOf,
  MinimumReplicasAvailable,
  MinimumReplicasUnavailable,
  newCondition,
  NewReplicaSetReason,
  newRSNewReplicas,
  removeCondition,
  setCondition,
  specReplicas,
  templateWithoutHash,
} from './util.js';

const hasDeadlineField = (d: KubeObject): boolean => d.spec?.progressDeadlineSeconds !== undefined && d.spec?.progressDeadlineSeconds !== null;

/** getNewReplicaSet: brings the existing new RS's annotations up to date, or creates it when `create`. */
export function getNewReplicaSet(env: DeploymentEnv, r: Rollout, rsList: KubeObject[], create: boolean): void {
  const d = r.d;
  const existing = r.newRS;
  if (existing) {
    const rs = clone(existing);
    let changed = setNewRSAnnotations(d, rs, nextRevision(r), true);
    if ((rs.spec.minReadySeconds ?? 0) !== (d.spec?.minReadySeconds ?? 0)) {
      rs.spec.minReadySeconds = d.spec?.minReadySeconds ?? 0;
      changed = true;
    }
    if (changed) r.newRS = updateRS(env, rs);
    if (hasDeadlineField(d) && !cond(r.status, 'Progressing')) {
      setCondition(r.status, newCondition(env.clock.now(), 'Progressing', 'True', FoundNewRSReason, `Found new replica set "${r.newRS!.metadata.name}"`));
    }
    syncDeploymentRevision(env, r);
    return;
  }
  if (!create) return;
  const createdRS = createNewReplicaSet(env, r, rsList);
  if (!createdRS) return;
  r.newRS = createdRS;
  if (hasDeadlineField(d)) {
    const c = newCondition(env.clock.now(), 'Progressing', 'True', NewReplicaSetReason, `Created new replica set "${createdRS.metadata.name}"`);
    removeCondition(r.status, 'Progressing');
    setCondition(r.status, c);
  }
  syncDeploymentRevision(env, r);
}

/** The new ReplicaSet for the Deployment's template, named after its hash. */
function newReplicaSetFor(d: KubeObject, r: Rollout): KubeObject {
  const hash = computeHash(templateWithoutHash(d.spec.template), d.status?.collisionCount);
  const template = clone(d.spec.template ?? {});
  template.metadata = template.metadata ?? {};
  template.metadata.labels = { ...(template.metadata.labels ?? {}), [HASH_LABEL]: hash };
  const selector = clone(d.spec.selector ?? {});
  selector.matchLabels = { ...(selector.matchLabels ?? {}), [HASH_LABEL]: hash };
  const rs: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: `${d.metadata.name}-${hash}`, namespace: d.metadata.namespace, ownerReferences: [ownerRefTo(d)], labels: template.metadata.labels },
    spec: { replicas: 0, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
  };
  setNewRSAnnotations(d, rs, nextRevision(r), false);
  rs.spec.replicas = newRSNewReplicas(d, [...r.oldRSs], undefined);
  return rs;
}

/** Creates the new ReplicaSet; answers an equal one of ours that already has its name (undefined: reused into r). */
function createNewReplicaSet(env: DeploymentEnv, r: Rollout, rsList: KubeObject[]): KubeObject | undefined {
  const d = r.d;
  const ns = d.metadata.namespace!;
  const rs = newReplicaSetFor(d, r);
  const desired = rs.spec.replicas as number;
  let createdRS: KubeObject;
  try {
    createdRS = env.store.create('apps/replicasets', ns, rs);
  } catch (err) {
    if (httpCode(err) === 409) {
      // Hash collision (sync.go): reuse if it is ours with an equal template, else bump collisionCount and retry.
      const other = rsList.find((x) => x.metadata.name === rs.metadata.name) ?? env.store.peek('apps/replicasets', ns, rs.metadata.name!);
      if (other && controllerRef(other)?.uid === d.metadata.uid && equalIgnoreHash(other.spec?.template, d.spec?.template)) {
        r.newRS = other;
        return undefined;
      }
      const cur = env.store.get('apps/deployments', ns, d.metadata.name!);
      cur.status = { ...(cur.status ?? {}), collisionCount: (cur.status?.collisionCount ?? 0) + 1 };
      env.store.update('apps/deployments', ns, d.metadata.name!, cur, { subresource: 'status' });
      throw new Error(`hash collision for ReplicaSet ${rs.metadata.name}, collisionCount bumped`, { cause: err });
    }
    const msg = `Failed to create new replica set "${rs.metadata.name}": ${errorMessage(err)}`;
    setCondition(r.status, newCondition(env.clock.now(), 'ReplicaFailure', 'True', 'FailedCreate', msg));
    env.event(d, 'Warning', 'FailedCreate', msg);
    throw err;
  }
  if (desired > 0) env.event(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${createdRS.metadata.name} from 0 to ${desired}`);
  return createdRS;
}

function updateRS(env: DeploymentEnv, rs: KubeObject): KubeObject {
  return env.store.update('apps/replicasets', rs.metadata.namespace, rs.metadata.name!, rs);
}

/** scaleReplicaSet: sets spec.replicas (and the replica annotations), with the ScalingReplicaSet event. */
export function scaleRS(env: DeploymentEnv, d: KubeObject, rs: KubeObject, to: number): KubeObject {
  const from = specReplicas(rs);
  const next = clone(rs);
  const needsAnn = setReplicasAnnotations(d, next);
  if (from === to && !needsAnn) return rs;
  next.spec.replicas = to;
  const out = updateRS(env, next);
  if (from !== to) env.event(d, 'Normal', 'ScalingReplicaSet', `Scaled ${to > from ? 'up' : 'down'} replica set ${rs.metadata.name} from ${from} to ${to}`);
  return out;
}

/** Scales `rs` and puts the result in place in the rollout. */
export function scaleInPlace(env: DeploymentEnv, r: Rollout, rs: KubeObject, to: number): void {
  replace(r, rs, scaleRS(env, r.d, rs, to));
}

/** SetReplicasAnnotations: keeps desired/max-replicas current. Returns whether rs changed. */
function setReplicasAnnotations(d: KubeObject, rs: KubeObject): boolean {
  const ann = { ...(rs.metadata.annotations ?? {}) };
  const want = { [DESIRED]: String(d.spec?.replicas ?? 1), [MAX_REPLICAS]: String((d.spec?.replicas ?? 1) + maxSurgeOf(d)) };
  let changed = false;
  for (const [k, v] of Object.entries(want))
    if (ann[k] !== v) {
      ann[k] = v;
      changed = true;
    }
  rs.metadata.annotations = ann;
  return changed;
}

/** isScalingEvent: an active RS whose desired-replicas annotation differs from spec.replicas. */
export function isScalingEvent(r: Rollout): boolean {
  const want = String(r.d.spec?.replicas ?? 1);
  for (const rs of [r.newRS, ...r.oldRSs]) {
    if (!rs || specReplicas(rs) === 0) continue;
    const desired = rs.metadata.annotations?.[DESIRED];
    if (desired !== undefined && desired !== want) return true;
  }
  return false;
}

/** scale: the only active RS takes the new size; otherwise proportional scaling. */
export function scale(env: DeploymentEnv, r: Rollout): void {
  const d = r.d;
  const replicas = d.spec?.replicas ?? 1;
  const all = [r.newRS, ...r.oldRSs].filter((x): x is KubeObject => !!x);
  const active = all.filter((rs) => specReplicas(rs) > 0);
  // FindActiveOrLatest
  let target: KubeObject | undefined;
  if (active.length === 1) target = active[0];
  else if (active.length === 0) target = r.newRS ?? [...r.oldRSs].sort(byCreation).at(-1);
  if (target) return scaleInPlace(env, r, target, replicas);
  // IsSaturated: the new RS has everything available, old ones go to zero.
  const n = r.newRS;
  if (n && specReplicas(n) === replicas && n.metadata.annotations?.[DESIRED] === String(replicas) && (n.status?.availableReplicas ?? 0) === replicas) {
    for (const rs of r.oldRSs) if (specReplicas(rs) > 0) scaleInPlace(env, r, rs, 0);
    return;
  }
  if (!isRolling(d)) return;
  for (const [rs, to] of proportionalTargets(d, active)) scaleInPlace(env, r, rs, Math.max(0, to));
}

/** The sizes proportional scaling gives the active ReplicaSets (GetProportion), the rest to the largest. */
function proportionalTargets(d: KubeObject, active: KubeObject[]): Map<KubeObject, number> {
  const replicas = d.spec?.replicas ?? 1;
  const allowed = replicas + maxSurgeOf(d);
  const current = active.reduce((s, rs) => s + specReplicas(rs), 0);
  const toAdd = allowed - current;
  // ReplicaSetsBySizeNewer when adding, BySizeOlder when removing.
  const sorted = [...active].sort((a, b) => specReplicas(b) - specReplicas(a) || (toAdd > 0 ? created(b) - created(a) : created(a) - created(b)));
  let added = 0;
  const targets = new Map<KubeObject, number>();
  for (const rs of sorted) {
    let proportion = 0;
    if (toAdd !== 0 && toAdd !== added) {
      let fraction: number;
      if (replicas === 0) fraction = -specReplicas(rs);
      else {
        let before = Number(rs.metadata.annotations?.[MAX_REPLICAS] ?? 0);
        if (!before) before = d.status?.replicas ?? 0;
        fraction = before ? Math.round((specReplicas(rs) * allowed) / before) - specReplicas(rs) : 0;
      }
      const left = toAdd - added;
      proportion = toAdd > 0 ? Math.min(fraction, left) : Math.max(fraction, left);
    }
    added += proportion;
    targets.set(rs, specReplicas(rs) + proportion);
  }
  if (sorted.length && toAdd !== 0) targets.set(sorted[0], Math.max(0, targets.get(sorted[0])! + (toAdd - added)));
  return targets;
}

/** calculateStatus, with the Available condition. */
export function calculateStatus(env: DeploymentEnv, r: Rollout): any {
  const d = r.d;
  const all = [r.newRS, ...r.oldRSs].filter((x): x is KubeObject => !!x);
  const available = all.reduce((s, rs) => s + (rs.status?.availableReplicas ?? 0), 0);
  const total = all.reduce((s, rs) => s + specReplicas(rs), 0);
  const status: any = {
    observedGeneration: d.metadata.generation,
    replicas: all.reduce((s, rs) => s + (rs.status?.replicas ?? 0), 0),
    updatedReplicas: r.newRS?.status?.replicas ?? 0,
    readyReplicas: all.reduce((s, rs) => s + (rs.status?.readyReplicas ?? 0), 0),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, total - available),
  };
  if (r.status.conditions) status.conditions = clone(r.status.conditions);
  if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
  const replicas = d.spec?.replicas ?? 1;
  const now = env.clock.now();
  if (available >= replicas - maxUnavailableOf(d)) setCondition(status, newCondition(now, 'Available', 'True', MinimumReplicasAvailable, 'Deployment has minimum availability.'));
  else setCondition(status, newCondition(now, 'Available', 'False', MinimumReplicasUnavailable, 'Deployment does not have minimum availability.'));
  return status;
}

/** syncStatusOnly (paused deployments and scaling events). */
export function syncStatusOnly(env: DeploymentEnv, r: Rollout, paused: boolean): void {
  const st = calculateStatus(env, r);
  if (paused && hasDeadline(r.d)) {
    if (cond(st, 'Progressing')?.reason !== 'DeploymentPaused') setCondition(st, newCondition(env.clock.now(), 'Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused'));
  } else if (!paused && cond(st, 'Progressing')?.reason === 'DeploymentPaused') {
    setCondition(st, newCondition(env.clock.now(), 'Progressing', 'Unknown', 'DeploymentResumed', 'Deployment is resumed'));
  }
  writeStatus(env, r, st);
}

/** The status as the API stores it: apps/v1 DeploymentStatus omits zero int32s and empty conditions. */
function stripZero(st: any): any {
  const out = { ...st };
  for (const k of ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas']) if (out[k] === 0) delete out[k];
  if (out.conditions && out.conditions.length === 0) delete out.conditions;
  return out;
}

/** Writes the status subresource when it changed (and the Deployment is still the one synced). */
export function writeStatus(env: DeploymentEnv, r: Rollout, st: any): void {
  const d = r.d;
  const next = stripZero(st);
  if (deepEqual(d.status ?? {}, next)) return;
  const cur = env.store.find('apps/deployments', d.metadata.namespace, d.metadata.name!);
  if (!cur || cur.metadata.uid !== d.metadata.uid) return;
  if (next.collisionCount === undefined && cur.status?.collisionCount !== undefined) next.collisionCount = cur.status.collisionCount;
  cur.status = next;
  r.d = env.store.update('apps/deployments', d.metadata.namespace, d.metadata.name!, cur, { subresource: 'status' });
}
