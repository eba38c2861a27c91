/**
 * `findPreviewNamespaces`: the PR preview namespaces this tool created for one repository, read from the labels and
 * annotation the plan puts on a preview's Namespace (labels.ts). A sweep asks the repository about each pull request
 * and tears down those no longer open with `teardownProject`; this module only finds them (no GitHub here).
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeClient } from '../kube/index.js';
import { ANNOTATION_PREVIEW_REPOSITORY, LABEL_MANAGED_BY, LABEL_PART_OF, LABEL_PREVIEW_PR, MANAGED_BY } from '../plan/index.js';

export interface PreviewNamespace {
  namespace: string;
  /** The pull request's number. */
  pr: number;
  /** The project's `part-of` label: what `teardownProject` needs as the project. */
  project: string;
  /** `owner/name`, as the annotation has it. */
  repository: string;
  /** Already being deleted. */
  deleting: boolean;
}

/**
 * The preview namespaces of `repository` (`owner/name`, compared case-insensitively as GitHub does), by namespace
 * name. Namespaces whose preview label is not a pull request number, or without the project label, are left out:
 * nothing could be asked about them, and a teardown could not tell whose they are.
 */
export async function findPreviewNamespaces(client: KubeClient, repository: string, opts: { signal?: AbortSignal } = {}): Promise<PreviewNamespace[]> {
  const { items } = await client.list<KubernetesObject>('Namespace', undefined, { labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY},${LABEL_PREVIEW_PR}`, ...(opts.signal ? { signal: opts.signal } : {}) });
  const wanted = repository.toLowerCase();
  const found: PreviewNamespace[] = [];
  for (const ns of items) {
    const labels = ns.metadata?.labels ?? {};
    const repo = ns.metadata?.annotations?.[ANNOTATION_PREVIEW_REPOSITORY];
    const prText = labels[LABEL_PREVIEW_PR] ?? '';
    const project = labels[LABEL_PART_OF];
    if (repo?.toLowerCase() !== wanted || !/^[1-9]\d{0,9}$/.test(prText) || !project || !ns.metadata?.name) continue;
    found.push({ namespace: ns.metadata.name, pr: Number(prText), project, repository: repo, deleting: ns.metadata.deletionTimestamp !== undefined });
  }
  return found.sort((a, b) => a.namespace.localeCompare(b.namespace));
}
