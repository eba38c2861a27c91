/**
 * The registry credentials a pod pulls with: those of the Secrets its `imagePullSecrets` names, read from the node's
 * cache (node/view.ts watches them with the pod's other references). The ServiceAccount's pull secrets reach the pod
 * spec through the API server's ServiceAccount admission, so the kubelet, as upstream's, reads only the pod.
 */
import type { ObjectReader } from '../node/view.js';
import type { KubeObject } from '../types.js';
import { secretCredentials, type RegistryCredential } from './image-pull.js';

export function pullCredentials(api: Pick<ObjectReader, 'find'>, pod: KubeObject): { credentials: RegistryCredential[]; missing: string[] } {
  const credentials: RegistryCredential[] = [];
  const missing: string[] = [];
  for (const ref of pod.spec?.imagePullSecrets ?? []) {
    const name = typeof ref?.name === 'string' ? ref.name : '';
    if (name === '') continue;
    const secret = api.find('secrets', pod.metadata.namespace, name);
    if (secret === undefined) missing.push(name);
    else credentials.push(...secretCredentials(secret as { type?: string; data?: Record<string, string> }));
  }
  return { credentials, missing };
}
