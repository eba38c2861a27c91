/**
 * Deployment rollouts: `kubectl rollout status` judged from watch events, the pods of the new ReplicaSet diagnosed as
 * they change (fail fast), and `kubectl rollout undo`'s choice of the revision to go back to.
 *
 * The pure parts (rolloutStatus, findNewReplicaSet, chooseRollbackTarget, rollbackManifest) are exported for tests;
 * `waitForRollout` is the one waiting function: three watches (the Deployment by name, its ReplicaSets and the new
 * ReplicaSet's pods), no polling.
 */
import type { V1Deployment, V1Pod, V1PodTemplateSpec, V1ReplicaSet } from '@kubernetes/client-node';
import { watchObjects, type KubeClient } from '../kube/index.js';
import type { Logger } from '../logger.js';
import { ANNOTATION_STAGE, LABEL_GIT_COMMIT } from '../plan/index.js';
import { diagnosePod, isPodReady } from './pod-diagnosis.js';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
/** Annotations of ours on a Deployment that describe the version it runs (restored from the ReplicaSet on rollback). */
const VERSION_ANNOTATION_PREFIX = 'bodywork.dev/';

/** The `deployment.kubernetes.io/revision` annotation as a number (undefined when absent or not a number). */
export function revisionOf(o: { metadata?: { annotations?: Record<string, string> } } | undefined): number | undefined {
  const raw = o?.metadata?.annotations?.[REVISION_ANNOTATION];
  if (raw === undefined || !/^\d+$/.test(raw.trim())) return undefined;
  return Number(raw);
}

export interface RolloutStatus {
  state: 'waiting' | 'complete' | 'failed';
  /** kubectl's words: `Waiting for deployment "x" rollout to finish: 1 of 2 updated replicas are available...`. */
  message: string;
}

/** `kubectl rollout status deployment/x`, one evaluation (kubernetes-semantics.md §3.3). */
export function rolloutStatus(d: V1Deployment): RolloutStatus {
  const name = d.metadata?.name ?? '';
  const generation = d.metadata?.generation ?? 0;
  const st = d.status ?? {};
  if (generation > (st.observedGeneration ?? 0)) return { state: 'waiting', message: 'Waiting for deployment spec update to be observed...' };
  const progressing = (st.conditions ?? []).find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') return { state: 'failed', message: `deployment "${name}" exceeded its progress deadline` };
  const replicas = d.spec?.replicas;
  const updated = st.updatedReplicas ?? 0;
  if (replicas !== undefined && updated < replicas) {
    return { state: 'waiting', message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${replicas} new replicas have been updated...` };
  }
  if ((st.replicas ?? 0) > updated) {
    return { state: 'waiting', message: `Waiting for deployment "${name}" rollout to finish: ${(st.replicas ?? 0) - updated} old replicas are pending termination...` };
  }
  if ((st.availableReplicas ?? 0) < updated) {
    return { state: 'waiting', message: `Waiting for deployment "${name}" rollout to finish: ${st.availableReplicas ?? 0} of ${updated} updated replicas are available...` };
  }
  return { state: 'complete', message: `deployment "${name}" successfully rolled out` };
}

/**
 * The controller could not create (or delete) the new ReplicaSet's pods: the `ReplicaFailure` condition it mirrors from
 * the ReplicaSet (quota exceeded, a missing ServiceAccount, an admission webhook's refusal). Not a `kubectl rollout
 * status` rule, but no pod will come until something else changes, so a rollout fails on it at once.
 */
export function replicaFailure(d: V1Deployment): string | undefined {
  if ((d.metadata?.generation ?? 0) > (d.status?.observedGeneration ?? 0)) return undefined;
  const c = (d.status?.conditions ?? []).find((x) => x.type === 'ReplicaFailure' && x.status === 'True');
  if (!c) return undefined;
  return `ReplicaFailure${c.reason ? ` (${c.reason})` : ''}: ${(c.message ?? 'the controller could not create the pods').replace(/\s+/g, ' ').trim()}`;
}

function controlledBy(rs: V1ReplicaSet, uid: string | undefined): boolean {
  return uid !== undefined && (rs.metadata?.ownerReferences ?? []).some((r) => r.controller === true && r.uid === uid);
}

/**
 * The Deployment's current ("new") ReplicaSet: controlled by it and carrying its revision, once the controller has
 * observed the Deployment's latest generation (it creates or adopts the new ReplicaSet before writing that status).
 */
export function findNewReplicaSet(d: V1Deployment, replicaSets: Iterable<V1ReplicaSet>): V1ReplicaSet | undefined {
  if ((d.metadata?.generation ?? 0) > (d.status?.observedGeneration ?? 0)) return undefined;
  const revision = revisionOf(d);
  if (revision === undefined) return undefined;
  for (const rs of replicaSets) if (controlledBy(rs, d.metadata?.uid) && revisionOf(rs) === revision) return rs;
  return undefined;
}

/**
 * `kubectl rollout undo`'s target: of the ReplicaSets the Deployment controls, the one with the highest revision below
 * `currentRevision`, compared as numbers (Bodywork compared strings, so revision 9 beat 10: bodywork-behaviour.md §7).
 */
export function chooseRollbackTarget(deploymentUid: string | undefined, replicaSets: Iterable<V1ReplicaSet>, currentRevision: number): V1ReplicaSet | undefined {
  let best: V1ReplicaSet | undefined;
  let bestRevision = -1;
  for (const rs of replicaSets) {
    if (!controlledBy(rs, deploymentUid)) continue;
    const r = revisionOf(rs);
    if (r === undefined || r >= currentRevision || r <= bestRevision) continue;
    best = rs;
    bestRevision = r;
  }
  return best;
}

/** The ReplicaSet's pod template as a Deployment template: without the `pod-template-hash` label (as kubectl strips it). */
export function templateOf(rs: V1ReplicaSet): V1PodTemplateSpec {
  return stripTemplate(rs.spec?.template);
}

/** A pod template without `pod-template-hash` and with only labels and annotations in its metadata. */
export function stripTemplate(template: V1PodTemplateSpec | undefined): V1PodTemplateSpec {
  const t = structuredClone(template ?? {});
  const labels = { ...t.metadata?.labels };
  delete labels[POD_TEMPLATE_HASH_LABEL];
  const annotations = t.metadata?.annotations;
  t.metadata = { labels, ...(annotations && Object.keys(annotations).length > 0 ? { annotations } : {}) };
  return t;
}

/**
 * The Deployment to server-side apply to roll back to `rs`: the planned Deployment with `rs`'s pod template (minus
 * `pod-template-hash`) and the version annotations/labels it was deployed with. This is `kubectl rollout undo`'s
 * effect (it JSON-patches `/spec/template` and `/metadata/annotations`) made with our own apply, so our field manager
 * keeps owning exactly the fields the Deployment has: a JSON patch would make the restored template fields another
 * (Update) manager's, and the next apply could then no longer remove any of them (an env var dropped in the next
 * version would silently stay).
 */
export function rollbackManifest(planned: V1Deployment, rs: V1ReplicaSet): V1Deployment {
  const template = templateOf(rs);
  const rsAnnotations = rs.metadata?.annotations ?? {};
  const plannedAnnotations = planned.metadata?.annotations ?? {};
  const annotations: Record<string, string> = {};
  // Our version annotations as the ReplicaSet recorded them (it copies the Deployment's when it becomes the new one).
  for (const [k, v] of Object.entries(rsAnnotations)) if (k.startsWith(VERSION_ANNOTATION_PREFIX)) annotations[k] = v;
  for (const [k, v] of Object.entries(plannedAnnotations)) if (!k.startsWith(VERSION_ANNOTATION_PREFIX) || k === ANNOTATION_STAGE) annotations[k] = v;
  const labels: Record<string, string> = { ...planned.metadata?.labels };
  const commit = template.metadata?.labels?.[LABEL_GIT_COMMIT];
  if (commit !== undefined) labels[LABEL_GIT_COMMIT] = commit;
  else delete labels[LABEL_GIT_COMMIT];
  return {
    ...planned,
    metadata: { ...planned.metadata, labels, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) },
    spec: { ...planned.spec!, template },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Waiting

export type RolloutOutcome =
  | { kind: 'complete'; deployment: V1Deployment; message: string }
  /** A pod cannot become ready (`pods`: the failing ones), the progress deadline passed, or the Deployment was deleted. */
  | { kind: 'failed'; reason: string; deployment?: V1Deployment; pods: V1Pod[] }
  /** `timeoutMs` passed; `pods`: the new ReplicaSet's pods that are not ready. */
  | { kind: 'timeout'; reason: string; deployment?: V1Deployment; pods: V1Pod[] }
  | { kind: 'cancelled'; deployment?: V1Deployment; pods: V1Pod[] };

export interface WaitForRolloutOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  /** Labels selecting the stage's pods and ReplicaSets (the Deployment's selector). */
  selector: Record<string, string>;
  /** Give up after this long. */
  timeoutMs: number;
  signal: AbortSignal;
  logger?: Logger;
  /** What to call the Deployment in the timeout message, e.g. `the rollback of Deployment x`. */
  description?: string;
  /** Called when the number of ready new pods changes, and with (desired, desired) at the end of a complete rollout. */
  onProgress?: (ready: number, desired: number) => void;
  /** Called with the new ReplicaSet's pods (not being deleted) whenever one of them changes (to follow their logs). */
  onPods?: (pods: V1Pod[]) => void;
  /** Watch tuning (tests). */
  watch?: { idleTimeoutMs?: number; backoff?: { baseMs?: number; capMs?: number } };
}

function selectorString(selector: Record<string, string>): string {
  return Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/**
 * Waits until the Deployment's rollout completes by `kubectl rollout status`'s rules, fails (progress deadline,
 * Deployment deleted, a new pod diagnosed as fatal), `timeoutMs` passes or `signal` aborts. Resolves with the outcome;
 * rejects only with a `KubeApiError` the watches could not get past.
 */
export async function waitForRollout(opts: WaitForRolloutOptions): Promise<RolloutOutcome> {
  const { client, namespace, name } = opts;
  const selector = selectorString(opts.selector);
  const inner = new AbortController();
  let deployment: V1Deployment | undefined;
  let deploymentSeen = false;
  const replicaSets = new Map<string, V1ReplicaSet>();
  let pods: ReadonlyMap<string, V1Pod> = new Map();
  let podWatch: { hash: string; ac: AbortController; synced: boolean } | undefined;
  let lastReady = -1;

  return new Promise<RolloutOutcome>((resolve, reject) => {
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
      podWatch?.ac.abort();
      inner.abort();
      fn();
    };
    const newPods = () => [...pods.values()].filter((p) => !p.metadata?.deletionTimestamp);
    const onAbort = () => finish(() => resolve({ kind: 'cancelled', deployment, pods: newPods() }));
    if (opts.signal.aborted) {
      resolve({ kind: 'cancelled', pods: [] });
      return;
    }
    opts.signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => {
      const status = deployment ? rolloutStatus(deployment).message : `Deployment "${name}" not seen`;
      const notReady = newPods().filter((p) => !isPodReady(p));
      const why = notReady
        .map((p) => diagnosePod(p).reason)
        .filter(Boolean)
        .slice(0, 1);
      const seconds = Math.round(opts.timeoutMs / 1000);
      finish(() =>
        resolve({
          kind: 'timeout',
          reason: `${opts.description ?? `Deployment ${name}`} did not finish within ${seconds} s: ${status.replace(/^Waiting for deployment "[^"]*" rollout to finish: /, '').replace(/\.\.\.$/, '')}${why.length > 0 ? `; ${why[0]}` : ''}`,
          deployment,
          pods: notReady,
        }),
      );
    }, opts.timeoutMs);

    const fail = (e: unknown) => finish(() => reject(e));
    const watchTuning = { idleTimeoutMs: opts.watch?.idleTimeoutMs, backoff: opts.watch?.backoff, logger: opts.logger };

    const evaluate = () => {
      if (done) return;
      if (deploymentSeen && deployment === undefined) {
        finish(() => resolve({ kind: 'failed', reason: `Deployment ${name} was deleted during the rollout`, pods: [] }));
        return;
      }
      if (!deployment) return;
      const rs = findNewReplicaSet(deployment, replicaSets.values());
      const hash = rs?.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL];
      if (hash && podWatch?.hash !== hash) startPodWatch(hash);
      // Pods of the new ReplicaSet: fail fast on the first one that cannot become ready.
      if (podWatch && podWatch.hash === hash && podWatch.synced) {
        for (const p of newPods()) {
          const d = diagnosePod(p);
          if (d.fatal) {
            finish(() => resolve({ kind: 'failed', reason: `pod ${p.metadata?.name}: ${d.reason}`, deployment, pods: [p] }));
            return;
          }
        }
        const ready = newPods().filter(isPodReady).length;
        if (ready !== lastReady) {
          lastReady = ready;
          opts.onProgress?.(ready, deployment.spec?.replicas ?? 1);
        }
      }
      const failure = replicaFailure(deployment);
      if (failure) {
        finish(() => resolve({ kind: 'failed', reason: failure, deployment, pods: [] }));
        return;
      }
      const status = rolloutStatus(deployment);
      if (status.state === 'complete') {
        const d = deployment;
        // Progress always ends with every replica ready, even when the last pod change came after the Deployment's.
        const desired = d.spec?.replicas ?? 1;
        if (lastReady !== desired) opts.onProgress?.(desired, desired);
        finish(() => resolve({ kind: 'complete', deployment: d, message: status.message }));
      } else if (status.state === 'failed') {
        const notReady = newPods().filter((p) => !isPodReady(p));
        finish(() => resolve({ kind: 'failed', reason: status.message, deployment, pods: notReady }));
      }
    };

    const startPodWatch = (hash: string) => {
      podWatch?.ac.abort();
      const ac = new AbortController();
      podWatch = { hash, ac, synced: false };
      pods = new Map();
      inner.signal.addEventListener('abort', () => ac.abort(), { once: true });
      watchObjects<V1Pod>({
        client,
        path: `/api/v1/namespaces/${namespace}/pods`,
        labelSelector: `${selector},${POD_TEMPLATE_HASH_LABEL}=${hash}`,
        signal: ac.signal,
        ...watchTuning,
        onSync: (objects) => {
          if (podWatch?.ac !== ac) return;
          podWatch.synced = true;
          pods = objects;
          opts.onPods?.(newPods());
          evaluate();
        },
        onEvent: (e, objects) => {
          if (e.synthetic || podWatch?.ac !== ac) return;
          pods = objects;
          opts.onPods?.(newPods());
          evaluate();
        },
      }).catch(fail);
    };

    watchObjects<V1ReplicaSet>({
      client,
      path: `/apis/apps/v1/namespaces/${namespace}/replicasets`,
      labelSelector: selector,
      signal: inner.signal,
      ...watchTuning,
      onSync: (objects) => {
        replicaSets.clear();
        for (const [k, v] of objects) replicaSets.set(k, v);
        evaluate();
      },
      onEvent: (e, objects) => {
        if (e.synthetic) return;
        replicaSets.clear();
        for (const [k, v] of objects) replicaSets.set(k, v);
        evaluate();
      },
    }).catch(fail);

    watchObjects<V1Deployment>({
      client,
      path: `/apis/apps/v1/namespaces/${namespace}/deployments`,
      fieldSelector: `metadata.name=${name}`,
      signal: inner.signal,
      ...watchTuning,
      onSync: (objects) => {
        // Absent from a list (the first one included): it was deleted.
        deployment = objects.get(name);
        deploymentSeen = true;
        evaluate();
      },
      onEvent: (e, objects) => {
        if (e.synthetic) return;
        deployment = objects.get(name);
        if (deployment) deploymentSeen = true;
        evaluate();
      },
    }).catch(fail);
  });
}
