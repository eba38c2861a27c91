/**
 * The runner's CLI bundles (cli-bundle.ts) are named by content, so each CLI version leaves its own ConfigMaps in the
 * namespace, shared by every project's runs and schedules there. When a runner starts, the bundles no runner Job or
 * CronJob of the namespace references any more are deleted, safely:
 * - a reference is any Job's or CronJob's pod volume naming the ConfigMap (whatever project, finished Jobs too);
 * - a bundle created or reused within CLI_BUNDLE_GRACE_MS (`ANNOTATION_CLI_USED_AT`, set by the start that created
 *   it or found it) is kept: a start makes its Job right after its ConfigMaps;
 * - the delete holds the resourceVersion read, so a bundle a concurrent start marked as used meanwhile stays;
 * - nothing is deleted when Jobs or CronJobs cannot be listed (the RBAC's `cronjobs` rule is optional).
 */
import type { V1ConfigMap, V1CronJob, V1Job, V1PodSpec } from '@kubernetes/client-node';
import { KubeApiError, type KubeClient, type Manifest } from '../kube/index.js';
import type { Logger } from '../logger.js';
import { errorMessage } from '../errors.js';
import { LABEL_CLI_HASH } from './cli-bundle.js';

/** When a start last used a CLI bundle (ISO time): a start that finds its bundle present marks it. */
export const ANNOTATION_CLI_USED_AT = 'bodywork.dev/runner-cli-used-at';
/** How long an unreferenced bundle is kept after it was created or last used. */
export const CLI_BUNDLE_GRACE_MS = 15 * 60_000;

/** A bundle ConfigMap to create, marked as used now. */
export function markedUsed(cm: V1ConfigMap): V1ConfigMap {
  return { ...cm, metadata: { ...cm.metadata, annotations: { ...cm.metadata?.annotations, [ANNOTATION_CLI_USED_AT]: new Date().toISOString() } } };
}

/** Marks a bundle ConfigMap that already existed as used now (its metadata only: the data is immutable). */
export async function markCliBundleUsed(client: KubeClient, cm: V1ConfigMap, signal?: AbortSignal): Promise<void> {
  const touch = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: cm.metadata!.name!, namespace: cm.metadata!.namespace!, annotations: { [ANNOTATION_CLI_USED_AT]: new Date().toISOString() } } };
  await client.apply(touch as Manifest, { fieldManager: 'bodywork-deploy-runner-cli', ...(signal ? { signal } : {}) });
}

function configMapNames(pod: V1PodSpec | undefined): string[] {
  return (pod?.volumes ?? []).flatMap((v) => [...(v.configMap?.name ? [v.configMap.name] : []), ...(v.projected?.sources ?? []).flatMap((s) => (s.configMap?.name ? [s.configMap.name] : []))]);
}

/** Deletes the namespace's CLI bundle ConfigMaps that nothing references (see above), never those in `keep`. */
export async function pruneCliBundles(client: KubeClient, logger: Logger, namespace: string, keep: string[], signal?: AbortSignal): Promise<string[]> {
  const call = signal ? { signal } : {};
  let bundles: V1ConfigMap[];
  const used = new Set(keep);
  try {
    bundles = (await client.list<V1ConfigMap>('ConfigMap', namespace, { labelSelector: LABEL_CLI_HASH, ...call })).items;
    const [jobs, crons] = await Promise.all([client.list<V1Job>('Job', namespace, call), client.list<V1CronJob>('CronJob', namespace, call)]);
    for (const j of jobs.items) for (const n of configMapNames(j.spec?.template.spec)) used.add(n);
    for (const c of crons.items) for (const n of configMapNames(c.spec?.jobTemplate.spec?.template.spec)) used.add(n);
  } catch (e) {
    if (signal?.aborted) throw e;
    logger.debug(`kept the runner's old CLI bundles in namespace=${namespace}: could not list them or what uses them: ${errorMessage(e)}`);
    return [];
  }
  // A start records when it created or reused a bundle; a bundle without the record counts from its creation.
  const lastUsed = (cm: V1ConfigMap) => new Date(cm.metadata?.annotations?.[ANNOTATION_CLI_USED_AT] ?? cm.metadata?.creationTimestamp ?? 0).getTime() || 0;
  const deleted: string[] = [];
  for (const cm of bundles) {
    const name = cm.metadata!.name!;
    if (used.has(name) || Date.now() - lastUsed(cm) < CLI_BUNDLE_GRACE_MS) continue;
    try {
      if (await client.delete('ConfigMap', namespace, name, { resourceVersion: cm.metadata!.resourceVersion!, ...call })) deleted.push(name);
    } catch (e) {
      // Changed since it was read: a start has just used it.
      if (!(e instanceof KubeApiError && e.isConflict)) logger.warn(`could not delete the runner's old CLI bundle ${name} in namespace=${namespace}: ${errorMessage(e)}`);
    }
  }
  if (deleted.length > 0) logger.info(`deleted ${deleted.length} unused ConfigMap${deleted.length === 1 ? '' : 's'} of older runner CLIs in namespace=${namespace}: ${deleted.join(', ')}`);
  return deleted;
}
