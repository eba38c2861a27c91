/** What one Job sync works with: the controller's services and the Job's status as it is being prepared. */
import type { Clock } from '../../machinery/clock.js';
import type { LogFn } from '../../machinery/log.js';
import type { ClusterStore, KubeObject } from '../../types.js';

export const SOURCE = 'job-controller';

/** The controller as the sync steps see it. */
export interface JobEnv {
  readonly store: ClusterStore;
  readonly clock: Clock;
  readonly log?: LogFn;
  /** Records an Event on the Job. */
  event(job: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

/** One sync of one Job (upstream's syncJobCtx). */
export interface JobSync {
  job: KubeObject;
  /** The sync's time: every timestamp it writes. */
  now: number;
  /** The status being prepared. */
  status: any;
  conditions: any[];
  /** The pods the Job owns (after ClaimPods). */
  pods: KubeObject[];
  active: KubeObject[];
  terminating: KubeObject[];
  /** Pods counted in this sync, whose tracking finalizer goes once the status is written. */
  toRelease: KubeObject[];
  newFailed: number;
  /** When to sync again (ms from now): the active deadline or a back-off. */
  nextWake?: number;
}

/** Asks for another sync `ms` from now; the earliest request wins. */
export function wakeIn(s: JobSync, ms: number): void {
  s.nextWake = Math.min(s.nextWake ?? ms, ms);
}
