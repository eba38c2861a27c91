/**
 * Deployment controller (K pkg/controller/deployment/{deployment_controller.go,sync.go,rolling.go,recreate.go,
 * progress.go}, K pkg/controller/deployment/util/deployment_util.go).
 *
 * Every sync: claim ReplicaSets, find the new RS (template equal ignoring pod-template-hash; the oldest such) and
 * sync its revision annotations, then either a scaling event (proportional scaling), a Recreate or a RollingUpdate
 * step, then status + the Progressing/Available conditions that `kubectl rollout status` reads. The progress
 * deadline is a timer (requeueStuckDeployment), not polling.
 */
import type { ClusterStore, EventRecorder, KubeObject, StoreEvent } from '../types.js';
import { errorMessage } from '../../engine/errors.js';
import { isNotFound } from '../machinery/errors.js';
import type { LogFn } from '../machinery/log.js';
import { canonicalJSON, clone, deepEqual, scaledValue, splitKey } from '../machinery/objects.js';
import { claimObjects, controllersOf, controllerRef, ownerRefTo } from '../machinery/owners.js';
import { isPodActive } from '../machinery/pods.js';
import { nowRFC3339, parseTime } from '../machinery/time.js';
import { WorkQueue } from '../machinery/workqueue.js';

export interface DeploymentControllerOptions {
  events: EventRecorder;
  log?: LogFn;
}

const SOURCE = 'deployment-controller';
const HASH_LABEL = 'pod-template-hash';
const REVISION = 'deployment.kubernetes.io/revision';
const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
const DESIRED = 'deployment.kubernetes.io/desired-replicas';
const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

// Reasons (deployment_util.go).
const NewReplicaSetReason = 'NewReplicaSetCreated';
const FoundNewRSReason = 'FoundNewReplicaSet';
const ReplicaSetUpdatedReason = 'ReplicaSetUpdated';
const NewRSAvailableReason = 'NewReplicaSetAvailable';
const TimedOutReason = 'ProgressDeadlineExceeded';
const MinimumReplicasAvailable = 'MinimumReplicasAvailable';
const MinimumReplicasUnavailable = 'MinimumReplicasUnavailable';

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

function templateWithoutHash(t: any): any {
  const c = clone(t ?? {});
  if (c.metadata?.labels) {
    delete c.metadata.labels[HASH_LABEL];
    if (Object.keys(c.metadata.labels).length === 0) delete c.metadata.labels;
  }
  if (c.metadata && Object.keys(c.metadata).length === 0) delete c.metadata;
  return c;
}

/** deployment_util.go EqualIgnoreHash. */
export function equalIgnoreHash(a: any, b: any): boolean {
  return deepEqual(templateWithoutHash(a), templateWithoutHash(b));
}

const revisionOf = (o: KubeObject): number => {
  const v = Number(o.metadata.annotations?.[REVISION]);
  return Number.isFinite(v) ? v : 0;
};
const specReplicas = (o: KubeObject): number => o.spec?.replicas ?? 0;
const created = (o: KubeObject): number => parseTime(o.metadata.creationTimestamp) ?? 0;
const byCreation = (a: KubeObject, b: KubeObject): number => created(a) - created(b) || (a.metadata.name! < b.metadata.name! ? -1 : 1);

interface Fenceposts {
  maxSurge: number;
  maxUnavailable: number;
}

/** deployment_util.go ResolveFenceposts: surge rounds up, unavailable down; both 0 -> unavailable 1. */
export function resolveFenceposts(d: KubeObject): Fenceposts {
  const replicas = d.spec?.replicas ?? 1;
  const ru = d.spec?.strategy?.rollingUpdate ?? {};
  const maxSurge = scaledValue(ru.maxSurge, replicas, true, '25%');
  let maxUnavailable = scaledValue(ru.maxUnavailable, replicas, false, '25%');
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable };
}

const isRolling = (d: KubeObject): boolean => (d.spec?.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';

function maxUnavailableOf(d: KubeObject): number {
  const replicas = d.spec?.replicas ?? 1;
  if (!isRolling(d) || replicas === 0) return 0;
  return Math.min(resolveFenceposts(d).maxUnavailable, replicas);
}

function maxSurgeOf(d: KubeObject): number {
  return isRolling(d) ? resolveFenceposts(d).maxSurge : 0;
}

function cond(status: any, type: string): any {
  return (status.conditions as any[] | undefined)?.find((c) => c.type === type);
}

function newCondition(type: string, status: string, reason: string, message: string): any {
  const now = nowRFC3339();
  return { type, status, lastUpdateTime: now, lastTransitionTime: now, reason, message };
}

/** deployment_util.go SetDeploymentCondition: same status+reason is a no-op; same status keeps lastTransitionTime. */
function setCondition(status: any, c: any): void {
  const cur = cond(status, c.type);
  if (cur && cur.status === c.status && cur.reason === c.reason) return;
  if (cur && cur.status === c.status) c.lastTransitionTime = cur.lastTransitionTime;
  status.conditions = [...((status.conditions as any[]) ?? []).filter((x) => x.type !== c.type), c];
}

function removeCondition(status: any, type: string): void {
  status.conditions = ((status.conditions as any[]) ?? []).filter((x) => x.type !== type);
}

export function startDeploymentController(store: ClusterStore, opts: DeploymentControllerOptions): { stop(): Promise<void> } {
  const queue: WorkQueue = new WorkQueue((key) => sync(key), { name: 'deployment-controller', log: opts.log });
  const event = (d: KubeObject, type: 'Normal' | 'Warning', reason: string, msg: string): void => opts.events.record(d, type, reason, msg, SOURCE);

  function updateRS(rs: KubeObject): KubeObject {
    return store.update('apps/replicasets', rs.metadata.namespace, rs.metadata.name!, rs);
  }

  /** SetNewReplicaSetAnnotations + copyDeploymentAnnotationsToReplicaSet. Returns whether rs changed. */
  function setNewRSAnnotations(d: KubeObject, rs: KubeObject, newRevision: number, exists: boolean): boolean {
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

  interface Ctx {
    d: KubeObject;
    newRS: KubeObject | undefined;
    oldRSs: KubeObject[];
    /** Status being prepared (conditions from getNewReplicaSet). */
    status: any;
  }

  /** sync.go getNewReplicaSet. Creates the RS when `create`. */
  function getNewReplicaSet(ctx: Ctx, rsList: KubeObject[], create: boolean): void {
    const d = ctx.d;
    const ns = d.metadata.namespace!;
    const maxOld = Math.max(0, ...ctx.oldRSs.map(revisionOf));
    const newRevision = maxOld + 1;
    const existing = ctx.newRS;
    if (existing) {
      const rs = clone(existing);
      let changed = setNewRSAnnotations(d, rs, newRevision, true);
      if ((rs.spec.minReadySeconds ?? 0) !== (d.spec?.minReadySeconds ?? 0)) {
        rs.spec.minReadySeconds = d.spec?.minReadySeconds ?? 0;
        changed = true;
      }
      if (changed) ctx.newRS = updateRS(rs);
      if (d.spec?.progressDeadlineSeconds !== undefined && d.spec?.progressDeadlineSeconds !== null && !cond(ctx.status, 'Progressing')) {
        setCondition(ctx.status, newCondition('Progressing', 'True', FoundNewRSReason, `Found new replica set "${ctx.newRS!.metadata.name}"`));
      }
      syncDeploymentRevision(ctx);
      return;
    }
    if (!create) return;
    const collision = d.status?.collisionCount;
    const hash = computeHash(templateWithoutHash(d.spec.template), collision);
    const template = clone(d.spec.template ?? {});
    template.metadata = template.metadata ?? {};
    template.metadata.labels = { ...(template.metadata.labels ?? {}), [HASH_LABEL]: hash };
    const selector = clone(d.spec.selector ?? {});
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [HASH_LABEL]: hash };
    const desired = newRSNewReplicas(d, [...ctx.oldRSs], undefined);
    const rs: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: `${d.metadata.name}-${hash}`, namespace: ns, ownerReferences: [ownerRefTo(d)], labels: template.metadata.labels },
      spec: { replicas: 0, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
    };
    setNewRSAnnotations(d, rs, newRevision, false);
    rs.spec.replicas = desired;
    let createdRS: KubeObject;
    try {
      createdRS = store.create('apps/replicasets', ns, rs);
    } catch (err) {
      if ((err as { code?: number }).code === 409) {
        // Hash collision (sync.go): reuse if it is ours with an equal template, else bump collisionCount and retry.
        const other = rsList.find((x) => x.metadata.name === rs.metadata.name) ?? store.find('apps/replicasets', ns, rs.metadata.name!);
        if (other && controllerRef(other)?.uid === d.metadata.uid && equalIgnoreHash(other.spec?.template, d.spec?.template)) {
          ctx.newRS = other;
          return;
        }
        const cur = store.get('apps/deployments', ns, d.metadata.name!);
        cur.status = { ...(cur.status ?? {}), collisionCount: (cur.status?.collisionCount ?? 0) + 1 };
        store.update('apps/deployments', ns, d.metadata.name!, cur, { subresource: 'status' });
        throw new Error(`hash collision for ReplicaSet ${rs.metadata.name}, collisionCount bumped`, { cause: err });
      }
      const msg = `Failed to create new replica set "${rs.metadata.name}": ${errorMessage(err)}`;
      setCondition(ctx.status, newCondition('ReplicaFailure', 'True', 'FailedCreate', msg));
      event(d, 'Warning', 'FailedCreate', msg);
      throw err;
    }
    if (desired > 0) event(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${createdRS.metadata.name} from 0 to ${desired}`);
    ctx.newRS = createdRS;
    if (d.spec?.progressDeadlineSeconds !== undefined && d.spec?.progressDeadlineSeconds !== null) {
      const c = newCondition('Progressing', 'True', NewReplicaSetReason, `Created new replica set "${createdRS.metadata.name}"`);
      removeCondition(ctx.status, 'Progressing');
      setCondition(ctx.status, c);
    }
    syncDeploymentRevision(ctx);
  }

  /** The deployment carries the new RS's revision annotation (sync.go; kubectl reads it). */
  function syncDeploymentRevision(ctx: Ctx): void {
    const d = ctx.d;
    const rev = ctx.newRS?.metadata.annotations?.[REVISION];
    if (!rev || d.metadata.annotations?.[REVISION] === rev) return;
    const cur = store.get('apps/deployments', d.metadata.namespace, d.metadata.name!);
    cur.metadata.annotations = { ...(cur.metadata.annotations ?? {}), [REVISION]: rev };
    ctx.d = store.update('apps/deployments', d.metadata.namespace, d.metadata.name!, cur);
  }

  /** deployment_util.go NewRSNewReplicas. */
  function newRSNewReplicas(d: KubeObject, allRSs: KubeObject[], newRS: KubeObject | undefined): number {
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

  function scaleRS(d: KubeObject, rs: KubeObject, to: number): KubeObject {
    const from = specReplicas(rs);
    const r = clone(rs);
    const needsAnn = setNewRSAnnotationsForScale(d, r);
    if (from === to && !needsAnn) return rs;
    r.spec.replicas = to;
    const out = updateRS(r);
    if (from !== to) event(d, 'Normal', 'ScalingReplicaSet', `Scaled ${to > from ? 'up' : 'down'} replica set ${rs.metadata.name} from ${from} to ${to}`);
    return out;
  }

  /** sync.go scaleReplicaSet: keeps desired/max-replicas annotations current. */
  function setNewRSAnnotationsForScale(d: KubeObject, rs: KubeObject): boolean {
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

  // -------------------------------------------------------------------------------------------------------------

  function sync(key: string): void {
    const [ns, name] = splitKey(key);
    const d0 = store.find('apps/deployments', ns, name);
    if (!d0 || d0.metadata.deletionTimestamp) return;
    const d = d0;
    const everything = d.spec?.selector && Object.keys(d.spec.selector).length === 0;
    if (everything) {
      event(d, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      return;
    }
    const rsList = claimObjects(store, 'apps/replicasets', d, d.spec?.selector, store.list('apps/replicasets', ns).items);
    const matching = rsList.filter((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template)).sort(byCreation);
    const newRS = matching[0];
    const oldRSs = rsList.filter((rs) => rs !== newRS);
    const ctx: Ctx = { d, newRS, oldRSs, status: clone(d.status ?? {}) };

    if (d.spec?.paused) {
      getNewReplicaSet(ctx, rsList, false);
      if (isScalingEvent(ctx)) scale(ctx);
      syncStatusOnly(ctx, true);
      return;
    }
    if (isScalingEvent(ctx)) {
      getNewReplicaSet(ctx, rsList, false);
      scale(ctx);
      if (ctx.newRS && deploymentComplete(ctx.d, calculateStatus(ctx))) cleanup(ctx);
      syncStatusOnly(ctx, false);
      return;
    }
    if (isRolling(d)) rolloutRolling(ctx, rsList);
    else rolloutRecreate(ctx, rsList);
  }

  /** sync.go isScalingEvent: an active RS whose desired-replicas annotation differs from spec.replicas. */
  function isScalingEvent(ctx: Ctx): boolean {
    const want = String(ctx.d.spec?.replicas ?? 1);
    for (const rs of [ctx.newRS, ...ctx.oldRSs]) {
      if (!rs || specReplicas(rs) === 0) continue;
      const desired = rs.metadata.annotations?.[DESIRED];
      if (desired !== undefined && desired !== want) return true;
    }
    return false;
  }

  /** sync.go scale: the only active RS takes the new size; otherwise proportional scaling (GetProportion). */
  function scale(ctx: Ctx): void {
    const d = ctx.d;
    const replicas = d.spec?.replicas ?? 1;
    const all = [ctx.newRS, ...ctx.oldRSs].filter((x): x is KubeObject => !!x);
    const active = all.filter((rs) => specReplicas(rs) > 0);
    // FindActiveOrLatest
    let target: KubeObject | undefined;
    if (active.length === 1) target = active[0];
    else if (active.length === 0) target = ctx.newRS ?? [...ctx.oldRSs].sort(byCreation).at(-1);
    if (target) {
      replace(ctx, target, scaleRS(d, target, replicas));
      return;
    }
    // IsSaturated: the new RS has everything available, old ones go to zero.
    const n = ctx.newRS;
    if (n && specReplicas(n) === replicas && n.metadata.annotations?.[DESIRED] === String(replicas) && (n.status?.availableReplicas ?? 0) === replicas) {
      for (const rs of ctx.oldRSs) if (specReplicas(rs) > 0) replace(ctx, rs, scaleRS(d, rs, 0));
      return;
    }
    if (!isRolling(d)) return;
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
    for (const [rs, to] of targets) replace(ctx, rs, scaleRS(d, rs, Math.max(0, to)));
  }

  function replace(ctx: Ctx, before: KubeObject, after: KubeObject): void {
    if (ctx.newRS === before) ctx.newRS = after;
    else ctx.oldRSs = ctx.oldRSs.map((x) => (x === before ? after : x));
  }

  function rolloutRolling(ctx: Ctx, rsList: KubeObject[]): void {
    getNewReplicaSet(ctx, rsList, true);
    const d = ctx.d;
    const replicas = d.spec?.replicas ?? 1;
    // reconcileNewReplicaSet
    const newRS = ctx.newRS!;
    let scaled = false;
    if (specReplicas(newRS) > replicas) {
      replace(ctx, newRS, scaleRS(d, newRS, replicas));
      scaled = true;
    } else if (specReplicas(newRS) < replicas) {
      const target = newRSNewReplicas(d, [ctx.newRS!, ...ctx.oldRSs], ctx.newRS);
      if (target !== specReplicas(newRS)) {
        replace(ctx, newRS, scaleRS(d, newRS, target));
        scaled = true;
      }
    }
    if (scaled) return syncRolloutStatus(ctx);
    if (reconcileOldReplicaSets(ctx)) return syncRolloutStatus(ctx);
    if (deploymentComplete(d, calculateStatus(ctx))) cleanup(ctx);
    syncRolloutStatus(ctx);
  }

  /** rolling.go reconcileOldReplicaSets. */
  function reconcileOldReplicaSets(ctx: Ctx): boolean {
    const d = ctx.d;
    const oldPods = ctx.oldRSs.reduce((s, rs) => s + specReplicas(rs), 0);
    if (oldPods === 0) return false;
    const all = [ctx.newRS!, ...ctx.oldRSs];
    const allPods = all.reduce((s, rs) => s + specReplicas(rs), 0);
    const replicas = d.spec?.replicas ?? 1;
    const minAvailable = replicas - maxUnavailableOf(d);
    const newRSUnavailable = specReplicas(ctx.newRS!) - (ctx.newRS!.status?.availableReplicas ?? 0);
    const maxScaledDown = allPods - minAvailable - newRSUnavailable;
    if (maxScaledDown <= 0) return false;
    // cleanupUnhealthyReplicas: unhealthy old replicas first, oldest RS first.
    let cleaned = 0;
    for (const rs of [...ctx.oldRSs].sort(byCreation)) {
      if (cleaned >= maxScaledDown) break;
      if (specReplicas(rs) === 0) continue;
      const unhealthy = specReplicas(rs) - (rs.status?.availableReplicas ?? 0);
      if (unhealthy <= 0) continue;
      const n = Math.min(maxScaledDown - cleaned, unhealthy);
      replace(ctx, rs, scaleRS(d, rs, specReplicas(rs) - n));
      cleaned += n;
    }
    // scaleDownOldReplicaSetsForRollingUpdate: then healthy ones while availability stays above minAvailable.
    const available = [ctx.newRS!, ...ctx.oldRSs].reduce((s, rs) => s + (rs.status?.availableReplicas ?? 0), 0);
    let scaledDown = 0;
    if (available > minAvailable) {
      const total = available - minAvailable;
      for (const rs of [...ctx.oldRSs].sort(byCreation)) {
        if (scaledDown >= total) break;
        if (specReplicas(rs) === 0) continue;
        const n = Math.min(specReplicas(rs), total - scaledDown);
        replace(ctx, rs, scaleRS(d, rs, specReplicas(rs) - n));
        scaledDown += n;
      }
    }
    return cleaned + scaledDown > 0;
  }

  function rolloutRecreate(ctx: Ctx, rsList: KubeObject[]): void {
    getNewReplicaSet(ctx, rsList, false);
    const d = ctx.d;
    // scaleDownOldReplicaSetsForRecreate
    let scaled = false;
    for (const rs of ctx.oldRSs) {
      if (specReplicas(rs) === 0) continue;
      replace(ctx, rs, scaleRS(d, rs, 0));
      scaled = true;
    }
    if (scaled) return syncRolloutStatus(ctx);
    // oldPodsRunning: wait until no pod of an old RS is still running or being deleted.
    const oldUIDs = new Set(ctx.oldRSs.map((rs) => rs.metadata.uid));
    const oldRunning =
      ctx.oldRSs.some((rs) => (rs.status?.replicas ?? 0) > 0) ||
      store
        .list('pods', d.metadata.namespace)
        .items.some((p) => oldUIDs.has(controllerRef(p)?.uid) && p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded');
    if (oldRunning) return syncRolloutStatus(ctx);
    if (!ctx.newRS) {
      getNewReplicaSet(ctx, rsList, true);
      return syncRolloutStatus(ctx);
    }
    const replicas = d.spec?.replicas ?? 1;
    if (specReplicas(ctx.newRS) !== replicas) {
      replace(ctx, ctx.newRS, scaleRS(d, ctx.newRS, replicas));
      return syncRolloutStatus(ctx);
    }
    if (deploymentComplete(d, calculateStatus(ctx))) cleanup(ctx);
    syncRolloutStatus(ctx);
  }

  /** sync.go cleanupDeployment: delete old zero-replica RSs beyond revisionHistoryLimit, lowest revision first. */
  function cleanup(ctx: Ctx): void {
    const limit = ctx.d.spec?.revisionHistoryLimit;
    if (limit === undefined || limit === null) return;
    const cleanable = ctx.oldRSs.filter((rs) => specReplicas(rs) === 0 && (rs.status?.replicas ?? 0) === 0 && !rs.metadata.deletionTimestamp);
    const diff = cleanable.length - limit;
    if (diff <= 0) return;
    cleanable.sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
    for (const rs of cleanable.slice(0, diff)) {
      try {
        store.delete('apps/replicasets', rs.metadata.namespace, rs.metadata.name!, { preconditions: { uid: rs.metadata.uid } });
      } catch (err) {
        if (!isNotFound(err)) opts.log?.(`deployment-controller: cleanup ${rs.metadata.name}: ${errorMessage(err)}`);
      }
    }
    ctx.oldRSs = ctx.oldRSs.filter((rs) => !cleanable.slice(0, diff).includes(rs));
  }

  /** sync.go calculateStatus. */
  function calculateStatus(ctx: Ctx): any {
    const d = ctx.d;
    const all = [ctx.newRS, ...ctx.oldRSs].filter((x): x is KubeObject => !!x);
    const available = all.reduce((s, rs) => s + (rs.status?.availableReplicas ?? 0), 0);
    const total = all.reduce((s, rs) => s + specReplicas(rs), 0);
    const status: any = {
      observedGeneration: d.metadata.generation,
      replicas: all.reduce((s, rs) => s + (rs.status?.replicas ?? 0), 0),
      updatedReplicas: ctx.newRS?.status?.replicas ?? 0,
      readyReplicas: all.reduce((s, rs) => s + (rs.status?.readyReplicas ?? 0), 0),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, total - available),
    };
    if (ctx.status.conditions) status.conditions = clone(ctx.status.conditions);
    if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
    const replicas = d.spec?.replicas ?? 1;
    if (available >= replicas - maxUnavailableOf(d)) setCondition(status, newCondition('Available', 'True', MinimumReplicasAvailable, 'Deployment has minimum availability.'));
    else setCondition(status, newCondition('Available', 'False', MinimumReplicasUnavailable, 'Deployment does not have minimum availability.'));
    return status;
  }

  /** deployment_util.go DeploymentComplete. */
  function deploymentComplete(d: KubeObject, st: any): boolean {
    const replicas = d.spec?.replicas ?? 1;
    return st.updatedReplicas === replicas && st.replicas === replicas && st.availableReplicas === replicas && st.observedGeneration >= (d.metadata.generation ?? 0);
  }

  /** deployment_util.go DeploymentProgressing. */
  function deploymentProgressing(d: KubeObject, st: any): boolean {
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

  const hasDeadline = (d: KubeObject): boolean => d.spec?.progressDeadlineSeconds !== undefined && d.spec?.progressDeadlineSeconds !== null && d.spec.progressDeadlineSeconds !== 2147483647;

  /** deployment_util.go DeploymentTimedOut. */
  function timedOut(d: KubeObject, st: any, now: number): boolean {
    if (!hasDeadline(d)) return false;
    const c = cond(st, 'Progressing');
    if (!c) return false;
    if (c.reason === NewRSAvailableReason) return false;
    if (c.reason === TimedOutReason) return true;
    const from = parseTime(c.lastUpdateTime) ?? now;
    return from + d.spec.progressDeadlineSeconds * 1000 < now;
  }

  /** progress.go syncRolloutStatus. */
  function syncRolloutStatus(ctx: Ctx): void {
    const d = ctx.d;
    const st = calculateStatus(ctx);
    if (!hasDeadline(d)) removeCondition(st, 'Progressing');
    const currentCond = cond(ctx.status, 'Progressing');
    const isComplete = st.replicas === st.updatedReplicas && currentCond?.reason === NewRSAvailableReason;
    const newRSName = ctx.newRS?.metadata.name;
    if (hasDeadline(d) && !isComplete) {
      if (deploymentComplete(d, st)) {
        const msg = newRSName ? `ReplicaSet "${newRSName}" has successfully progressed.` : `Deployment "${d.metadata.name}" has successfully progressed.`;
        setCondition(st, newCondition('Progressing', 'True', NewRSAvailableReason, msg));
      } else if (deploymentProgressing(d, st)) {
        const msg = newRSName ? `ReplicaSet "${newRSName}" is progressing.` : `Deployment "${d.metadata.name}" is progressing.`;
        const c = newCondition('Progressing', 'True', ReplicaSetUpdatedReason, msg);
        // Progressing is special: same reason still refreshes lastUpdateTime (progress.go comment).
        const cur = cond(st, 'Progressing');
        if (cur) {
          if (cur.status === 'True') c.lastTransitionTime = cur.lastTransitionTime;
          removeCondition(st, 'Progressing');
        }
        setCondition(st, c);
      } else if (timedOut(d, st, Date.now())) {
        const msg = newRSName ? `ReplicaSet "${newRSName}" has timed out progressing.` : `Deployment "${d.metadata.name}" has timed out progressing.`;
        setCondition(st, newCondition('Progressing', 'False', TimedOutReason, msg));
        const cur = cond(d.status ?? {}, 'Progressing');
        if (cur?.reason !== TimedOutReason) event(d, 'Warning', 'ProgressDeadlineExceeded', msg);
      }
    }
    // ReplicaFailure is mirrored from the new RS (progress.go getReplicaFailures).
    const rsFailure = (ctx.newRS?.status?.conditions as any[] | undefined)?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
    if (rsFailure) setCondition(st, { type: 'ReplicaFailure', status: 'True', lastUpdateTime: nowRFC3339(), lastTransitionTime: rsFailure.lastTransitionTime, reason: rsFailure.reason, message: rsFailure.message });
    else if (cond(st, 'ReplicaFailure')?.reason !== 'FailedCreate' || ctx.newRS) removeCondition(st, 'ReplicaFailure');
    writeStatus(ctx, st);
    requeueStuck(d, st);
  }

  /** sync.go syncStatusOnly (paused deployments and scaling events). */
  function syncStatusOnly(ctx: Ctx, paused: boolean): void {
    const st = calculateStatus(ctx);
    if (paused && hasDeadline(ctx.d)) {
      const cur = cond(st, 'Progressing');
      if (cur?.reason !== 'DeploymentPaused') {
        const c = newCondition('Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused');
        setCondition(st, c);
      }
    } else if (!paused && cond(st, 'Progressing')?.reason === 'DeploymentPaused') {
      setCondition(st, newCondition('Progressing', 'Unknown', 'DeploymentResumed', 'Deployment is resumed'));
    }
    writeStatus(ctx, st);
  }

  function stripZero(st: any): any {
    const out = { ...st };
    // omitempty in apps/v1 DeploymentStatus for these int32 fields.
    for (const k of ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas']) if (out[k] === 0) delete out[k];
    if (out.conditions && out.conditions.length === 0) delete out.conditions;
    return out;
  }

  function writeStatus(ctx: Ctx, st: any): void {
    const d = ctx.d;
    const next = stripZero(st);
    if (deepEqual(d.status ?? {}, next)) return;
    const cur = store.find('apps/deployments', d.metadata.namespace, d.metadata.name!);
    if (!cur || cur.metadata.uid !== d.metadata.uid) return;
    if (next.collisionCount === undefined && cur.status?.collisionCount !== undefined) next.collisionCount = cur.status.collisionCount;
    cur.status = next;
    ctx.d = store.update('apps/deployments', d.metadata.namespace, d.metadata.name!, cur, { subresource: 'status' });
  }

  /** progress.go requeueStuckDeployment: wake up exactly when the deadline passes. */
  function requeueStuck(d: KubeObject, st: any): void {
    if (!hasDeadline(d)) return;
    const c = cond(st, 'Progressing');
    if (!c || c.reason === NewRSAvailableReason || c.reason === TimedOutReason) return;
    if (deploymentComplete(d, st)) return;
    const from = parseTime(c.lastUpdateTime) ?? Date.now();
    const after = from + d.spec.progressDeadlineSeconds * 1000 - Date.now();
    // lastUpdateTime has second precision: wake just after the deadline strictly passed.
    queue.addAfter(`${d.metadata.namespace}/${d.metadata.name}`, Math.max(after, 0) + 1001);
  }

  // -------------------------------------------------------------------------------------------------------------

  function enqueueOwnerOfRS(rs: KubeObject): void {
    for (const key of controllersOf(store, rs, 'Deployment', 'apps/deployments')) queue.add(key);
  }

  const unsubscribe = store.subscribe((ev: StoreEvent) => {
    if (ev.key === 'apps/deployments') {
      if (ev.type !== 'DELETED') queue.add(`${ev.object.metadata.namespace}/${ev.object.metadata.name}`);
    } else if (ev.key === 'apps/replicasets') {
      enqueueOwnerOfRS(ev.object);
    } else if (ev.key === 'pods' && ev.type === 'DELETED') {
      // Recreate waits for old pods to be gone (deployment_controller.go deletePod).
      const ref = controllerRef(ev.object);
      if (ref?.kind !== 'ReplicaSet') return;
      const rs = store.find('apps/replicasets', ev.object.metadata.namespace, ref.name);
      if (rs) enqueueOwnerOfRS(rs);
    } else if (ev.key === 'pods' && ev.type === 'MODIFIED' && !isPodActive(ev.object) && ev.old && isPodActive(ev.old)) {
      const ref = controllerRef(ev.object);
      if (ref?.kind !== 'ReplicaSet') return;
      const rs = store.find('apps/replicasets', ev.object.metadata.namespace, ref.name);
      if (rs) enqueueOwnerOfRS(rs);
    }
  });
  for (const d of store.list('apps/deployments', undefined).items) queue.add(`${d.metadata.namespace}/${d.metadata.name}`);
  return {
    async stop() {
      unsubscribe();
      await queue.stop();
    },
  };
}
