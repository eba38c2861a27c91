/**
 * `teardownProject`: removes a deployed project. A namespace labelled as this project's (managed-by
 * bodywork-deploy, part-of <project>: this tool created it for the project) is deleted whole, waiting (watching)
 * until it is gone; in any other namespace only the objects carrying the project's labels are deleted (Background
 * propagation: their pods and ReplicaSets go with them), and the namespace and everything else in it stay. The stage
 * ServiceAccount, Role and RoleBinding are shared by every project of this tool in the namespace (the last deploy's
 * labels win): they are kept while another project still has Jobs, Deployments or code there. A deploy lock (Lease)
 * left behind by the project is deleted too unless a live run holds it: the teardown takes the namespace's deploy lock
 * first (waiting for a running deployment), which takes over an expired one.
 */
import type { KubernetesObject, V1Lease } from '@kubernetes/client-node';
import { waitForObject, type KubeClient } from '../kube/index.js';
import type { Logger } from '../logger.js';
import { LABEL_MANAGED_BY, LABEL_PART_OF, MANAGED_BY, projectLabels, toDnsLabel } from '../plan/index.js';
import { LOCK_NAME, acquireLock, defaultHolder, leaseExpiry } from './lock.js';

/** Kinds our plans (and the action's `secrets` input, which labels its Secrets as the project's) create in a namespace, in deletion order. */
export const PROJECT_KINDS = ['Job', 'Deployment', 'Service', 'Ingress', 'ConfigMap', 'Secret', 'RoleBinding', 'Role', 'ServiceAccount'] as const;
/** The stage ServiceAccount and its RBAC: one set per namespace, shared by every project deployed there. */
const SHARED_KINDS = new Set<string>(['RoleBinding', 'Role', 'ServiceAccount']);
/** How long a namespace deletion may take by default. */
export const NAMESPACE_GONE_MS = 180_000;

export interface TeardownOptions {
  client: KubeClient;
  logger: Logger;
  /** The project's name as configured (its `part-of` label is derived from it, as the plan does). */
  project: string;
  namespace: string;
  signal?: AbortSignal;
  /** How long to wait for a namespace deletion to finish (default 3 min). */
  namespaceTimeoutMs?: number;
  /**
   * The namespace's deploy lock is taken first, so a teardown never runs in the middle of a deployment (it waits
   * for it, then fails naming the holder after `timeoutMs`, default 10 min). `holder` defaults to
   * `teardown (<host>/<pid>)`. `false`: no lock.
   */
  lock?: { holder?: string; timeoutMs?: number } | false;
}

export interface TeardownResult {
  namespace: string;
  /** `absent`: nothing there; `namespace-deleted`: ours, deleted whole; `objects-deleted`: someone else's, only our objects deleted. */
  outcome: 'absent' | 'namespace-deleted' | 'objects-deleted';
  /** `Kind/name` of each object deleted (`objects-deleted` only). */
  deleted: string[];
}

/** Whether a namespace's labels say this tool created it for `project`. */
export function isOurNamespace(ns: KubernetesObject | undefined, project: string): boolean {
  const labels = ns?.metadata?.labels ?? {};
  return Object.entries(projectLabels(toDnsLabel(project))).every(([k, v]) => labels[k] === v);
}

/**
 * Tears the project down (see the module comment). Throws `KubeApiError` on API failures, `WaitTimeoutError`
 * when the namespace is not gone in time, and `LockTimeoutError` when a deployment held the namespace for too long.
 */
export async function teardownProject(opts: TeardownOptions): Promise<TeardownResult> {
  const { client, logger, namespace: ns, signal } = opts;
  const labels = projectLabels(toDnsLabel(opts.project));
  const namespace = await client.find<KubernetesObject>('Namespace', undefined, ns, { signal });
  if (namespace === undefined) {
    logger.info(`namespace=${ns} does not exist: nothing to tear down`);
    return { namespace: ns, outcome: 'absent', deleted: [] };
  }

  // Not while a deployment runs there (a namespace already being deleted can hold no new Lease: nothing to wait for).
  const lock =
    opts.lock === false || namespace.metadata?.deletionTimestamp
      ? undefined
      : await acquireLock({
          client,
          logger,
          namespace: ns,
          holder: opts.lock?.holder ?? defaultHolder('teardown'),
          project: labels[LABEL_PART_OF],
          ...(signal ? { signal } : {}),
          ...(opts.lock?.timeoutMs !== undefined ? { timeoutMs: opts.lock.timeoutMs } : {}),
        });
  try {
    return await teardownLocked(opts, namespace, labels);
  } finally {
    // After a namespace deletion the Lease went with it: release finds nothing to do.
    await lock?.release();
  }
}

async function teardownLocked(opts: TeardownOptions, namespace: KubernetesObject, labels: Record<string, string>): Promise<TeardownResult> {
  const { client, logger, namespace: ns, signal } = opts;
  if (isOurNamespace(namespace, opts.project)) {
    logger.info(`deleting namespace=${ns}`);
    if (!namespace.metadata?.deletionTimestamp) await client.delete('Namespace', undefined, ns, { signal });
    await waitForObject({ client, path: '/api/v1/namespaces', name: ns }, (o) => o === undefined, {
      timeoutMs: opts.namespaceTimeoutMs ?? NAMESPACE_GONE_MS,
      signal,
      description: `namespace ${ns} to be deleted`,
    });
    return { namespace: ns, outcome: 'namespace-deleted', deleted: [] };
  }

  const selector = Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const others = await otherProjects(client, ns, labels, signal);
  const deleted: string[] = [];
  if (others.length > 0) {
    logger.info(`kept the stage service account, role and role binding of namespace=${ns}: shared with ${others.map((p) => `project ${p}`).join(', ')}`);
  }
  // The in-cluster runner's schedule first (it would deploy the project again); one that may not list CronJobs made none.
  const cronJobs = await client.list<KubernetesObject>('CronJob', ns, { labelSelector: selector, signal }).then((l) => l.items, () => []);
  for (const o of cronJobs) {
    if (await client.delete('CronJob', ns, o.metadata?.name ?? '', { propagationPolicy: 'Background', signal })) deleted.push(`CronJob/${o.metadata?.name}`);
  }
  for (const kind of PROJECT_KINDS) {
    if (SHARED_KINDS.has(kind) && others.length > 0) continue;
    // The shared objects carry the labels of the project that deployed last: the last project takes them whatever they say.
    const labelSelector = SHARED_KINDS.has(kind) ? `${LABEL_MANAGED_BY}=${MANAGED_BY}` : selector;
    const { items } = await client.list<KubernetesObject>(kind, ns, { labelSelector, signal });
    for (const o of items) {
      const name = o.metadata?.name ?? '';
      if (await client.delete(kind, ns, name, { propagationPolicy: 'Background', signal })) {
        deleted.push(`${kind}/${name}`);
        logger.info(`deleted ${kind.toLowerCase()}=${name} from namespace=${ns}`);
      }
    }
  }
  // Without the lock: the deploy lock, when the project's last run left it behind (killed before releasing) and it has expired.
  const lease = await client.find<V1Lease>('Lease', ns, LOCK_NAME, { signal });
  if (lease && Object.entries(labels).every(([k, v]) => lease.metadata?.labels?.[k] === v) && leaseExpiry(lease) <= Date.now()) {
    if (await client.delete('Lease', ns, LOCK_NAME, { signal })) {
      deleted.push(`Lease/${LOCK_NAME}`);
      logger.info(`deleted lease=${LOCK_NAME} from namespace=${ns}`);
    }
  }
  return { namespace: ns, outcome: 'objects-deleted', deleted };
}

/** Other projects of this tool with workloads or code in the namespace. */
async function otherProjects(client: KubeClient, ns: string, labels: Record<string, string>, signal?: AbortSignal): Promise<string[]> {
  const found = new Set<string>();
  for (const kind of ['Job', 'Deployment', 'ConfigMap']) {
    const { items } = await client.list<KubernetesObject>(kind, ns, { labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY},${LABEL_PART_OF}!=${labels[LABEL_PART_OF]}`, signal });
    for (const o of items) {
      const p = o.metadata?.labels?.[LABEL_PART_OF];
      if (p !== undefined && !o.metadata?.deletionTimestamp) found.add(p);
    }
  }
  return [...found].sort();
}
