/**
 * The scheduler's placement filters before resource fit, in kube-scheduler's default order (each stops the node at
 * its first failure, as the framework's RunFilterPlugins does): NodeUnschedulable, TaintToleration, NodeAffinity
 * (`nodeSelector` and required node affinity). All three fail "unresolvably": preemption cannot help, and the FitError
 * says so. Reason strings are kube-scheduler v1.37's, as it printed them for our node.
 */
import type { KubeObject } from '../../types.js';

export interface PlacementFailure {
  /** The plugin's reason, as it appears in the FitError message (`node(s) had untolerated taint(s)`). */
  reason: string;
}

interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

interface Taint {
  key: string;
  value?: string;
  effect: string;
}

/** v1helper ToleratesTaint: an empty effect tolerates every effect; Exists with no key tolerates every taint. */
export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  if (t.operator === 'Exists') return true;
  if (t.operator !== undefined && t.operator !== '' && t.operator !== 'Equal') return false;
  return (t.value ?? '') === (taint.value ?? '');
}

const tolerated = (pod: KubeObject, taint: Taint): boolean => ((pod.spec?.tolerations ?? []) as Toleration[]).some((t) => tolerates(t, taint));

interface Requirement {
  key: string;
  operator: string;
  values?: string[];
}

/** One NodeSelectorRequirement against a value (a label, or a field) that may be absent. */
function meets(r: Requirement, value: string | undefined): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      if (value === undefined || values.length !== 1 || !/^-?\d+$/.test(value) || !/^-?\d+$/.test(values[0])) return false;
      return r.operator === 'Gt' ? BigInt(value) > BigInt(values[0]) : BigInt(value) < BigInt(values[0]);
    }
    default:
      return false;
  }
}

/** A NodeSelectorTerm: all its expressions and fields hold; a term with neither matches no node. */
function termMatches(term: { matchExpressions?: Requirement[]; matchFields?: Requirement[] }, node: KubeObject): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels: Record<string, string> = node.metadata.labels ?? {};
  return exprs.every((r) => meets(r, labels[r.key])) && fields.every((r) => r.key === 'metadata.name' && meets(r, node.metadata.name));
}

/** NodeAffinity's filter: `nodeSelector` (every label equal) and the required terms (any one). */
export function matchesNodeAffinity(pod: KubeObject, node: KubeObject): boolean {
  const labels: Record<string, string> = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries((pod.spec?.nodeSelector ?? {}) as Record<string, string>)) if (labels[k] !== v) return false;
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms === undefined) return true;
  return (terms as Parameters<typeof termMatches>[0][]).some((t) => termMatches(t, node));
}

/** Why `pod` cannot go to `node` whatever runs there, or undefined when these filters pass. */
export function placementFailure(pod: KubeObject, node: KubeObject): PlacementFailure | undefined {
  if (node.spec?.unschedulable && !tolerated(pod, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' })) {
    return { reason: 'node(s) were unschedulable' };
  }
  const taints = ((node.spec?.taints ?? []) as Taint[]).filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute');
  if (taints.some((t) => !tolerated(pod, t))) return { reason: 'node(s) had untolerated taint(s)' };
  if (!matchesNodeAffinity(pod, node)) return { reason: "node(s) didn't match Pod's node affinity/selector" };
  return undefined;
}
