/**
 * Status conditions (the `status.conditions` lists of pods, Deployments, ReplicaSets and Jobs): looked up by type,
 * replaced as upstream's per-kind SetCondition helpers do.
 */

/** A condition as the API carries it; kinds add lastUpdateTime / lastProbeTime. */
export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  [field: string]: unknown;
}

/** The condition of `type` in a status, if any. */
export function findCondition(status: { conditions?: unknown } | undefined, type: string): any {
  return (status?.conditions as Condition[] | undefined)?.find((c) => c.type === type);
}

/** The conditions without the one of `type`. */
export function withoutCondition<C extends Condition>(conditions: C[] | undefined, type: string): C[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}
