/**
 * The TTL-after-finished controller's rule (K pkg/controller/ttlafterfinished/ttlafterfinished_controller.go), run by
 * the Job controller when a Job it syncs is finished: delete once finishTime + ttl passed (Foreground, UID
 * precondition), else ask to be woken then.
 */
import { isNotFound } from '../../machinery/errors.js';
import { parseTime } from '../../machinery/time.js';
import type { KubeObject } from '../../types.js';
import { trueCondition } from './conditions.js';
import type { JobEnv } from './state.js';

/** Returns the ms left until the Job expires, or undefined when there is nothing to wait for. */
export function expireFinishedJob(env: JobEnv, job: KubeObject): number | undefined {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  if (ttl === undefined || ttl === null || job.metadata.deletionTimestamp) return undefined;
  const c = trueCondition(job, 'Complete') ?? trueCondition(job, 'Failed');
  const finished = parseTime(c?.lastTransitionTime);
  if (finished === undefined) return undefined;
  const left = finished + ttl * 1000 - env.clock.now();
  if (left > 0) return left;
  try {
    env.store.delete('batch/jobs', job.metadata.namespace, job.metadata.name!, { propagationPolicy: 'Foreground', preconditions: { uid: job.metadata.uid } });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  return undefined;
}
