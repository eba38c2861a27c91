/**
 * Cancelling the in-cluster runner: its active Jobs are deleted with Foreground propagation, so the pod is deleted
 * first and the kubelet sends the engine SIGTERM; the engine then cancels as on Ctrl-C (stage Jobs deleted, rollouts
 * undone, the deploy lock released) and records the run as cancelled, within the pod's grace period. This waits for
 * the Jobs to be gone, then reports the run as recorded. A runner killed before it could record its end (its grace
 * period ran out) is recorded as cancelled here; its lock then expires by itself, which the result says.
 */
import type { V1ConfigMap, V1Job, V1Lease } from '@kubernetes/client-node';
import { LOCK_NAME } from '../deploy/lock.js';
import { waitFor, type KubeClient, type Manifest } from '../kube/index.js';
import type { Logger } from '../logger.js';
import { RUNNER_GRACE_SECONDS, runnerSelector } from './objects.js';
import { isFinal, parseProgress, progressConfigMap, readRunnerStatus, type RunnerStatus } from './progress.js';

export interface CancelResult {
  /** The runner Jobs deleted (none: nothing was running). */
  cancelled: string[];
  /** The latest run, as recorded after the cancel. */
  status?: RunnerStatus;
  /** Still holding the namespace's deploy lock after the cancel (a killed runner), until the Lease expires. */
  lockHolder?: string;
}

export interface CancelOptions {
  client: KubeClient;
  logger: Logger;
  namespace: string;
  project: string;
  /** How long to wait for the runner to stop (default its grace period and a minute). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export async function cancelRunner(o: CancelOptions): Promise<CancelResult> {
  const { client, logger, namespace, signal } = o;
  const selector = runnerSelector(o.project);
  const jobs = (await client.list<V1Job>('Job', namespace, { labelSelector: selector, ...(signal ? { signal } : {}) })).items;
  const finished = (j: V1Job) => j.status?.conditions?.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
  const active = jobs.filter((j) => !finished(j) && !j.metadata?.deletionTimestamp).map((j) => j.metadata!.name!);
  for (const name of active) {
    logger.info(`cancelling the in-cluster runner: deleting Job ${name} in namespace=${namespace}`);
    await client.delete('Job', namespace, name, { propagationPolicy: 'Foreground', ...(signal ? { signal } : {}) });
  }
  if (active.length > 0) {
    await waitFor<V1Job, true>(
      { client, path: `/apis/batch/v1/namespaces/${namespace}/jobs`, labelSelector: selector, logger },
      (all) => (active.every((n) => !all.has(n)) ? true : undefined),
      { timeoutMs: o.timeoutMs ?? (RUNNER_GRACE_SECONDS + 60) * 1000, description: `the runner Job${active.length === 1 ? '' : 's'} ${active.join(', ')} to stop`, ...(signal ? { signal } : {}) },
    );
  }
  // A record the runner could not finish: say what happened to it.
  for (const name of active) {
    const cm = await client.find<V1ConfigMap>('ConfigMap', namespace, name);
    const p = parseProgress(cm);
    if (p !== undefined && !isFinal(p.phase)) {
      await client.apply(progressConfigMap({ ...p, phase: 'cancelled', running: [], updatedAt: new Date().toISOString(), reason: 'cancelled: the runner was stopped before it recorded the end of the run' }) as unknown as Manifest);
    }
  }
  const status = await readRunnerStatus(client, namespace, o.project, signal);
  const lease = await client.find<V1Lease>('Lease', namespace, LOCK_NAME);
  const holder = lease?.spec?.holderIdentity ?? undefined;
  const runIds = active.map((n) => status?.job === n ? status.runId : undefined).filter((x): x is string => !!x);
  const lockHolder = holder !== undefined && runIds.some((id) => holder.startsWith(`${id} `)) ? holder : undefined;
  return { cancelled: active, ...(status !== undefined ? { status } : {}), ...(lockHolder !== undefined ? { lockHolder } : {}) };
}
