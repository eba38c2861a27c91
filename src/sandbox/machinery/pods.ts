/** Pod predicates and construction (K pkg/api/v1/pod/util.go, K pkg/controller/controller_utils.go). */
import type { KubeObject } from '../types.js';
import { findCondition } from './conditions.js';
import { clone } from './objects.js';
import { ownerRefTo } from './owners.js';
import { parseTime } from './time.js';

export function podCondition(pod: KubeObject, type: string): any {
  return findCondition(pod.status, type);
}

/** IsPodReady. */
export function isPodReady(pod: KubeObject): boolean {
  return podCondition(pod, 'Ready')?.status === 'True';
}

/** IsPodAvailable: Ready for at least minReadySeconds at `now`. */
export function isPodAvailable(pod: KubeObject, minReadySeconds: number, now: number): boolean {
  const c = podCondition(pod, 'Ready');
  if (c?.status !== 'True') return false;
  if (!minReadySeconds) return true;
  const t = parseTime(c.lastTransitionTime);
  return t !== undefined && t + minReadySeconds * 1000 <= now;
}

export function isTerminal(pod: KubeObject): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** IsPodActive: neither finished nor being deleted. */
export function isPodActive(pod: KubeObject): boolean {
  return !isTerminal(pod) && !pod.metadata.deletionTimestamp;
}

/** GetPodFromTemplate: a pod to create for `owner` (controlled by it) from its pod template. */
export function podFromTemplate(template: any, owner: KubeObject, generateName: string, extra?: { finalizers?: string[] }): KubeObject {
  const t = clone(template ?? {});
  const md: any = { generateName, namespace: owner.metadata.namespace, ownerReferences: [ownerRefTo(owner)] };
  if (t.metadata?.labels) md.labels = t.metadata.labels;
  if (t.metadata?.annotations) md.annotations = t.metadata.annotations;
  if (t.metadata?.finalizers || extra?.finalizers) md.finalizers = [...(t.metadata?.finalizers ?? []), ...(extra?.finalizers ?? [])];
  return { apiVersion: 'v1', kind: 'Pod', metadata: md, spec: t.spec ?? {} };
}
