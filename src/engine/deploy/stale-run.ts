/**
 * After taking over a stale deploy lock: the previous holder stopped renewing it (a killed runner, a lost network),
 * but what it started runs on. Before this run starts anything:
 *
 * - Its active Jobs are deleted (Foreground) and waited for until they are gone, pods included. Waiting for them to
 *   finish instead would hold this run for up to their max_completion_time (and retries) for results nobody
 *   collects, and this run runs the same stages again, from its own commit; meanwhile two pods of one stage would
 *   run side by side. A holder that is alive after all finds its lock lost and stops by itself.
 * - Rollouts still in progress are waited for (complete, or failed by their progress deadline), so this run's own
 *   rollout, and its rollback if it fails, start from a settled Deployment rather than from a half-done one.
 *
 * Both are bounded by `timeoutMs` (the lock timeout): past it the run fails, naming what is still going.
 */
import type { KubernetesObject, V1Deployment, V1Job } from '@kubernetes/client-node';
import { WaitTimeoutError, waitFor, type KubeClient } from '../kube/index.js';
import type { Logger } from '../logger.js';
import { LABEL_COMPONENT, LABEL_MANAGED_BY, MANAGED_BY, RUNNER_COMPONENT } from '../plan/index.js';
import { jobOutcome } from './batch-stage.js';
import { rolloutStatus } from './rollout.js';

export interface StaleRunOptions {
  client: KubeClient;
  logger: Logger;
  namespace: string;
  /** Who held the lock before (for messages). */
  previousHolder: string;
  timeoutMs: number;
  signal: AbortSignal;
}

const SELECTOR = `${LABEL_MANAGED_BY}=${MANAGED_BY}`;

/** Deletes the previous holder's active Jobs and waits for them and its rollouts; throws past `timeoutMs`. */
export async function stopStaleRun(opts: StaleRunOptions): Promise<void> {
  const { client, logger, namespace, signal } = opts;
  const deadline = Date.now() + opts.timeoutMs;
  const jobs = await client.list<V1Job>('Job', namespace, { labelSelector: SELECTOR, signal });
  // Not in-cluster runner Jobs (runner/objects.ts): this run may be one of them, and a stale one stops by itself.
  const active = jobs.items
    .filter((j) => jobOutcome(j) === undefined && !j.metadata?.deletionTimestamp && j.metadata?.labels?.[LABEL_COMPONENT] !== RUNNER_COMPONENT)
    .map((j) => j.metadata?.name ?? '');
  if (active.length > 0) {
    logger.warn(`stopping ${active.length} Job${active.length === 1 ? '' : 's'} still running from ${opts.previousHolder}: ${active.join(', ')}`);
    for (const name of active) await client.delete('Job', namespace, name, { propagationPolicy: 'Foreground', signal });
    await wait(opts, `/apis/batch/v1/namespaces/${namespace}/jobs`, (all: ReadonlyMap<string, V1Job>) => active.every((n) => ![...all.values()].some((j) => j.metadata?.name === n)), deadline, `the Jobs of ${opts.previousHolder} (${active.join(', ')}) to be deleted`);
    // Foreground deletion removes the Job after its pods; the pods' own deletion (grace period) is what matters.
    await wait(opts, `/api/v1/namespaces/${namespace}/pods`, (pods) => ![...pods.values()].some((p) => active.includes(p.metadata?.labels?.['job-name'] ?? '')), deadline, `the pods of ${active.join(', ')} to stop`);
  }
  const rolling = (all: ReadonlyMap<string, V1Deployment>) => [...all.values()].filter((d) => rolloutStatus(d).state === 'waiting').map((d) => d.metadata?.name ?? '');
  const deployments = await client.list<V1Deployment>('Deployment', namespace, { labelSelector: SELECTOR, signal });
  const inProgress = rolling(new Map(deployments.items.map((d) => [d.metadata?.name ?? '', d])));
  if (inProgress.length > 0) {
    logger.warn(`waiting for ${inProgress.length} rollout${inProgress.length === 1 ? '' : 's'} of ${opts.previousHolder} to settle: ${inProgress.join(', ')}`);
    await wait(opts, `/apis/apps/v1/namespaces/${namespace}/deployments`, (all: ReadonlyMap<string, V1Deployment>) => rolling(all).length === 0, deadline, `the rollouts of ${opts.previousHolder} (${inProgress.join(', ')}) to settle`);
  }
}

async function wait<T extends KubernetesObject>(
  opts: StaleRunOptions,
  path: string,
  done: (objects: ReadonlyMap<string, T>) => boolean,
  deadline: number,
  description: string,
): Promise<void> {
  try {
    await waitFor<T, true>({ client: opts.client, path, logger: opts.logger, ...(path.endsWith('/pods') ? {} : { labelSelector: SELECTOR }) }, (o) => (done(o) ? true : undefined), {
      timeoutMs: Math.max(1, deadline - Date.now()),
      signal: opts.signal,
      description,
    });
  } catch (e) {
    if (e instanceof WaitTimeoutError) throw new Error(`took over the deploy lock in namespace=${opts.namespace}, but ${e.message.replace(/^Timed out/, 'timed out')}`, { cause: e });
    throw e;
  }
}
