/**
 * Pod failure back-off (K pkg/controller/job/backoff_utils.go): after a failure, the next pod waits
 * base * 2^(failures-1), capped, counted from the last failure; a success resets it.
 */

export interface BackoffRecord {
  failuresAfterLastSuccess: number;
  lastFailureTime: number;
}

export interface BackoffPolicy {
  /** Pod failure back-off base (upstream DefaultJobPodFailureBackOff 10 s). */
  baseMs: number;
  /** Pod failure back-off cap (upstream MaxJobPodFailureBackOff 10 min). */
  maxMs: number;
}

export const newBackoffRecord = (): BackoffRecord => ({ failuresAfterLastSuccess: 0, lastFailureTime: 0 });

/** getRemainingTime: how long new pods must still wait at `now` (0: they may be created). */
export function remainingBackoff(bo: BackoffRecord, policy: BackoffPolicy, now: number): number {
  if (bo.failuresAfterLastSuccess === 0) return 0;
  const delay = Math.min(policy.baseMs * 2 ** (bo.failuresAfterLastSuccess - 1), policy.maxMs);
  return bo.lastFailureTime + delay - now;
}
