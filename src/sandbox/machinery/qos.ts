/**
 * A pod's QoS class (K pkg/apis/core/helper/qos/qos.go GetPodQOS), used by the API server when it creates a pod and
 * by the kubelet when a pod's status has none. Quantities are compared as written (`1` and `'1'` agree, `100m` and
 * `0.1` do not): enough for the sandbox, which never needs the class of such a pod to be exact.
 */
import type { KubeObject } from '../types.js';

/** BestEffort: no container requests or limits anything; Guaranteed: every container's cpu and memory limits are set and equal its requests; else Burstable. */
export function qosClass(spec: KubeObject['spec']): 'BestEffort' | 'Burstable' | 'Guaranteed' {
  const containers: any[] = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
  let requestsAnything = false;
  let guaranteed = true;
  for (const c of containers) {
    const requests = c?.resources?.requests ?? {};
    const limits = c?.resources?.limits ?? {};
    if (Object.keys(requests).length || Object.keys(limits).length) requestsAnything = true;
    for (const r of ['cpu', 'memory']) {
      if (!limits[r]) guaranteed = false;
      else if (requests[r] !== undefined && String(requests[r]) !== String(limits[r])) guaranteed = false;
    }
  }
  if (!requestsAnything) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
