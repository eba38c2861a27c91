/**
 * What the kubelet needs of the cluster: cached reads of its pods and of what they reference, and the writes a
 * kubelet makes. Implemented by the node's API view over HTTP(S) (node/view.ts), whatever the control plane.
 */
import type { ObjectReader } from '../node/view.js';
import type { KubeObject } from '../types.js';

export interface KubeletApi extends ObjectReader {
  /** Starts watching the Secrets/ConfigMaps `pod` references and fetches its ServiceAccount tokens; resolves once listed. */
  reference(pod: KubeObject): Promise<void>;
  /** Stops what only this pod needed. */
  release(uid: string): void;
  /** A projected serviceAccountToken source's token, once fetched (undefined starts a fetch). */
  token(pod: KubeObject, source: { audience?: string; expirationSeconds?: number; path: string }): string | undefined;
  /** Writes `status` through the pod's `status` subresource (uid-checked); resolves with the pod as stored. */
  patchPodStatus(pod: KubeObject, status: Record<string, unknown>): Promise<KubeObject>;
  /** Confirms a graceful deletion: DELETE with gracePeriodSeconds 0 and a uid precondition. */
  confirmPodDeletion(namespace: string, name: string, uid: string): Promise<void>;
}
