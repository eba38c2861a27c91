/** What one Deployment sync works with: the controller's services and the ReplicaSets it found. */
import type { Clock } from '../../machinery/clock.js';
import type { LogFn } from '../../machinery/log.js';
import type { ClusterStore, KubeObject } from '../../types.js';

/** The controller as the sync steps see it. */
export interface DeploymentEnv {
  readonly store: ClusterStore;
  readonly clock: Clock;
  readonly log?: LogFn;
  /** Records an Event on the Deployment. */
  event(d: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void;
  /** Syncs the Deployment `key` again after `ms` (the progress deadline). */
  requeueAfter(key: string, ms: number): void;
}

/** One sync's view of a Deployment, updated as its steps write (upstream passes these as arguments). */
export interface Rollout {
  d: KubeObject;
  newRS: KubeObject | undefined;
  oldRSs: KubeObject[];
  /** Status being prepared (conditions from getNewReplicaSet). */
  status: any;
}

/** Puts the written ReplicaSet in place of the one it replaces. */
export function replace(r: Rollout, before: KubeObject, after: KubeObject): void {
  if (r.newRS === before) r.newRS = after;
  else r.oldRSs = r.oldRSs.map((x) => (x === before ? after : x));
}
