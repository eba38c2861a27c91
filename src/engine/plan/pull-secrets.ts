/**
 * Image pull secrets of the planned pods: the Secrets named by the `image-pull-secrets` input / `--image-pull-secret`
 * flag (and `bodywork-registry`, the one made from registry credentials), set as `imagePullSecrets` on every Job's and
 * Deployment's pod template.
 *
 * On the pod templates rather than the stage ServiceAccount: they then show in `plan`, take effect in the same apply
 * as the image they are for, and do not depend on the ServiceAccount the pods run as (ServiceAccount admission copies
 * an account's pull secrets only into pods that name none, and only at pod creation).
 */
import type { V1PodSpec } from '@kubernetes/client-node';
import { isDns1123Subdomain } from '../kube/names.js';

/** The Secret `registry-server`/`registry-username`/`registry-password` are stored in. */
export const REGISTRY_SECRET = 'bodywork-registry';

/** The names, each once, in order; a problem message when one is not a valid Secret name. */
export function checkPullSecretNames(names: readonly string[]): { names: string[] } | { error: string } {
  const out: string[] = [];
  for (const raw of names) {
    const name = raw.trim();
    if (!isDns1123Subdomain(name)) return { error: `image pull secret '${raw}' is not a valid Secret name (lower-case letters, digits, '-' and '.')` };
    if (!out.includes(name)) out.push(name);
  }
  return { names: out };
}

/** The pod spec fields that carry `names` (none when empty). */
export function pullSecretsField(names: readonly string[] | undefined): Pick<V1PodSpec, 'imagePullSecrets'> {
  return names !== undefined && names.length > 0 ? { imagePullSecrets: names.map((name) => ({ name })) } : {};
}
