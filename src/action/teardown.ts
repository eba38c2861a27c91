/**
 * Teardown for the action (`command: teardown`, and a closed PR's preview). The engine has no teardown function
 * yet, so this follows the CLI's `teardown` command: a namespace labelled as this project's (we created it) is
 * deleted whole, waiting until it is gone; in any other namespace only the objects carrying the project's labels
 * are deleted (Background propagation), the Secrets the `secrets` input created included.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { type KubeClient, waitForObject } from '../engine/kube/index.js';
import type { Logger } from '../engine/logger.js';

/** Kinds our plans (and the `secrets` input) create inside a namespace, in deletion order. */
const PROJECT_KINDS = ['Job', 'Deployment', 'Service', 'Ingress', 'ConfigMap', 'Secret', 'RoleBinding', 'Role', 'ServiceAccount'];
const NAMESPACE_GONE_MS = 180_000;

export interface TeardownOutcome {
  /** 'absent': nothing there; 'namespace': the namespace was deleted; 'objects': only the project's objects. */
  kind: 'absent' | 'namespace' | 'objects';
  deleted: number;
  message: string;
}

export async function teardownNamespace(client: KubeClient, logger: Logger, namespace: string, labels: Record<string, string>, signal?: AbortSignal): Promise<TeardownOutcome> {
  const opts = signal ? { signal } : {};
  const ns = await client.find<KubernetesObject>('Namespace', undefined, namespace, opts);
  if (ns === undefined) return { kind: 'absent', deleted: 0, message: `namespace=${namespace} does not exist: nothing to tear down` };
  const have = ns.metadata?.labels ?? {};
  if (Object.entries(labels).every(([k, v]) => have[k] === v)) {
    logger.info(`deleting namespace=${namespace}`);
    await client.delete('Namespace', undefined, namespace, opts);
    await waitForObject({ client, path: '/api/v1/namespaces', name: namespace }, (o) => o === undefined, {
      timeoutMs: NAMESPACE_GONE_MS,
      description: `namespace ${namespace} to be deleted`,
      ...opts,
    });
    return { kind: 'namespace', deleted: 1, message: `deleted namespace=${namespace}` };
  }
  const selector = Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  let deleted = 0;
  for (const kind of PROJECT_KINDS) {
    const { items } = await client.list<KubernetesObject>(kind, namespace, { labelSelector: selector, ...opts });
    for (const o of items) {
      if (await client.delete(kind, namespace, o.metadata?.name ?? '', { propagationPolicy: 'Background', ...opts })) {
        deleted++;
        logger.info(`deleted ${kind.toLowerCase()}=${o.metadata?.name} from namespace=${namespace}`);
      }
    }
  }
  return { kind: 'objects', deleted, message: `namespace=${namespace} was not created by bodywork-deploy for this project: deleted ${deleted} of its objects, kept the namespace` };
}
