/**
 * Deployment controller (K pkg/controller/deployment/deployment_controller.go): its event handlers and syncDeployment.
 *
 * Every sync: claim ReplicaSets, find the new RS (template equal ignoring pod-template-hash; the oldest such) and
 * sync its revision annotations, then either a scaling event (proportional scaling, sync.ts), a Recreate
 * (recreate.ts) or a RollingUpdate (rolling.ts) step, then status + the Progressing/Available conditions that
 * `kubectl rollout status` reads (progress.ts). The progress deadline is a timer on the injected clock, not polling.
 */
import type { Clock } from '../../machinery/clock.js';
import { QueueController } from '../../machinery/controller.js';
import type { LogFn } from '../../machinery/log.js';
import { clone, keyOf, splitKey } from '../../machinery/objects.js';
import { claimObjects, controllerRef, controllersOf } from '../../machinery/owners.js';
import { isPodActive } from '../../machinery/pods.js';
import type { ClusterStore, EventRecorder, KubeObject, StoreEvent } from '../../types.js';
import { cleanupDeployment } from './history.js';
import { rolloutRecreate } from './recreate.js';
import { rolloutRolling } from './rolling.js';
import type { DeploymentEnv, Rollout } from './state.js';
import { calculateStatus, getNewReplicaSet, isScalingEvent, scale, syncStatusOnly } from './sync.js';
import { byCreation, deploymentComplete, equalIgnoreHash, isRolling, SOURCE } from './util.js';

export interface DeploymentControllerOptions {
  events: EventRecorder;
  log?: LogFn;
  /** Time for conditions and the progress deadline (default the system clock). */
  clock?: Clock;
}

export class DeploymentController extends QueueController implements DeploymentEnv {
  constructor(
    store: ClusterStore,
    private readonly opts: DeploymentControllerOptions,
  ) {
    super(store, SOURCE, opts);
  }

  protected initialKeys(): string[] {
    return this.store.view('apps/deployments', undefined).map(keyOf);
  }

  event(d: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.opts.events.record(d, type, reason, message, SOURCE);
  }

  requeueAfter(key: string, ms: number): void {
    this.queue.addAfter(key, ms);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Event handlers

  protected handle(ev: StoreEvent): void {
    if (ev.key === 'apps/deployments') this.onDeployment(ev);
    else if (ev.key === 'apps/replicasets') this.enqueueOwnerOfRS(ev.object);
    else if (ev.key === 'pods') this.onPod(ev);
  }

  private onDeployment(ev: StoreEvent): void {
    if (ev.type !== 'DELETED') this.queue.add(keyOf(ev.object));
  }

  /** deletePod: Recreate waits for old pods to be gone, so a pod deleted or finished wakes its Deployment. */
  private onPod(ev: StoreEvent): void {
    const gone = ev.type === 'DELETED';
    const finished = ev.type === 'MODIFIED' && !isPodActive(ev.object) && !!ev.old && isPodActive(ev.old);
    if (!gone && !finished) return;
    const ref = controllerRef(ev.object);
    if (ref?.kind !== 'ReplicaSet') return;
    const rs = this.store.peek('apps/replicasets', ev.object.metadata.namespace, ref.name);
    if (rs) this.enqueueOwnerOfRS(rs);
  }

  private enqueueOwnerOfRS(rs: KubeObject): void {
    for (const key of controllersOf(this.store, rs, 'Deployment', 'apps/deployments')) this.queue.add(key);
  }

  // -------------------------------------------------------------------------------------------------------------

  /** syncDeployment. */
  protected sync(key: string): void {
    const [ns, name] = splitKey(key);
    const d = this.store.peek('apps/deployments', ns, name);
    if (!d || d.metadata.deletionTimestamp) return;
    if (d.spec?.selector && Object.keys(d.spec.selector).length === 0) {
      this.event(d, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      return;
    }
    const rsList = claimObjects(this.store, 'apps/replicasets', d, d.spec?.selector, this.store.view('apps/replicasets', ns));
    const newRS = rsList.filter((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template)).sort(byCreation)[0];
    const r: Rollout = { d, newRS, oldRSs: rsList.filter((rs) => rs !== newRS), status: clone(d.status ?? {}) };

    if (d.spec?.paused) {
      getNewReplicaSet(this, r, rsList, false);
      if (isScalingEvent(r)) scale(this, r);
      syncStatusOnly(this, r, true);
      return;
    }
    if (isScalingEvent(r)) {
      getNewReplicaSet(this, r, rsList, false);
      scale(this, r);
      if (r.newRS && deploymentComplete(r.d, calculateStatus(this, r))) cleanupDeployment(this, r);
      syncStatusOnly(this, r, false);
      return;
    }
    if (isRolling(d)) rolloutRolling(this, r, rsList);
    else rolloutRecreate(this, r, rsList);
  }
}
