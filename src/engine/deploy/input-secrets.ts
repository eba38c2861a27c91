/**
 * Secrets a run is given as values (the action's `secrets` and `git-token` inputs), stored as Opaque Secrets
 * labelled as the project's. `deployProject` applies them under the deploy lock, before checking the secrets the
 * stages reference: a run waiting for the lock must not overwrite a Secret the running deploy's stages read.
 */
import type { V1Secret } from '@kubernetes/client-node';
import type { Manifest } from '../kube/index.js';
import type { DeployContext } from './types.js';

export interface SecretValues {
  name: string;
  /** The Secret's type (default Opaque; `kubernetes.io/dockerconfigjson` for an image pull secret). */
  type?: string;
  /** Key -> value (plain text; base64-encoded here). */
  data: Record<string, string>;
}

/**
 * Creates or updates each Secret in the namespace (server-side apply: the keys given replace those an earlier apply
 * gave), labelled `labels` (the project's, or just managed-by for `bodywork-deploy secret create`); logs names and
 * keys, never values.
 */
export async function applySecretValues(
  ctx: Pick<DeployContext, 'client' | 'logger' | 'namespace'> & { signal?: AbortSignal; labels: Record<string, string> },
  secrets: SecretValues[],
): Promise<void> {
  if (secrets.length === 0) return;
  await ctx.logger.group(`Secrets (${secrets.length})`, async () => {
    for (const s of secrets) {
      const secret: V1Secret = {
        apiVersion: 'v1',
        kind: 'Secret',
        type: s.type ?? 'Opaque',
        metadata: { name: s.name, namespace: ctx.namespace, labels: ctx.labels },
        data: Object.fromEntries(Object.entries(s.data).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')])),
      };
      await ctx.client.apply(secret as unknown as Manifest, ctx.signal ? { signal: ctx.signal } : {});
      ctx.logger.info(`applied secret=${s.name} (keys: ${Object.keys(s.data).sort().join(', ')}) in namespace=${ctx.namespace}`);
    }
  });
}
