/**
 * Waiting for a Deployment's rollout (`kubectl rollout status`, judged from watch events) while the pods of its new
 * ReplicaSet are diagnosed as they change, to fail fast. Three watches (the Deployment by name, its ReplicaSets, the
 * new ReplicaSet's pods), no polling.
 *
 * What the waiter has seen is a `RolloutView`; what it means (the new ReplicaSet, ready pods, an outcome) is the pure
 * `judgeRollout`, and the timeout's words `rolloutTimeout`; `RolloutWaiter` holds the watches and the state.
 */
import type { KubernetesObject, V1Deployment, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { fromVersion, watchObjects, type KubeClient, type WatchArgs } from '../kube/index.js';
import type { Logger } from '../logger.js';
import { diagnosePod, isPodReady } from './pod-diagnosis.js';
import { findNewReplicaSet, POD_TEMPLATE_HASH_LABEL, replicaFailure, rolloutStatus } from './rollout.js';

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
  /**
   * The Deployment as the apply that created it answered (KubeClient.creationVersion): the watches start from its
   * version, where it had no ReplicaSet and no pod, instead of listing. (A ReplicaSet it adopts, left orphaned by an
   * earlier Deployment of that name, still shows, adopting it being a change of it; that one's pods show as they
   * change. The outcome is the Deployment's status either way.)
   */
  created?: V1Deployment;
}

/** What the waiter has seen so far. */
export interface RolloutView {
  name: string;
  deployment: V1Deployment | undefined;
  /** A list has been made (or an event shown the Deployment): its absence now means it was deleted. */
  deploymentSeen: boolean;
  replicaSets: Iterable<V1ReplicaSet>;
  /** The pods being watched (not those being deleted): of the ReplicaSet whose pod-template-hash is `hash`, all of them once `synced`. */
  pods: { hash?: string; synced: boolean; items: V1Pod[] };
}

/** What a view means: whose pods to watch, how many of them are ready, and the outcome once there is one. */
export interface RolloutJudgement {
  /** The new ReplicaSet's pod-template-hash. */
  newHash?: string;
  /** Ready pods of the new ReplicaSet, once they are all known. */
  ready?: { ready: number; desired: number };
  outcome?: Extract<RolloutOutcome, { kind: 'complete' | 'failed' }>;
}

/**
 * Judges a view: the Deployment deleted, a new pod that cannot become ready (fail fast), the controller's
 * ReplicaFailure, then `kubectl rollout status`'s verdict (rolloutStatus).
 */
export function judgeRollout(v: RolloutView): RolloutJudgement {
  const d = v.deployment;
  if (v.deploymentSeen && d === undefined) return { outcome: { kind: 'failed', reason: `Deployment ${v.name} was deleted during the rollout`, pods: [] } };
  if (!d) return {};
  const newHash = findNewReplicaSet(d, v.replicaSets)?.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL];
  const judged: RolloutJudgement = newHash ? { newHash } : {};
  if (newHash && v.pods.hash === newHash && v.pods.synced) {
    for (const p of v.pods.items) {
      const diagnosis = diagnosePod(p);
      if (diagnosis.fatal) return { ...judged, outcome: { kind: 'failed', reason: `pod ${p.metadata?.name}: ${diagnosis.reason}`, deployment: d, pods: [p] } };
    }
    judged.ready = { ready: v.pods.items.filter(isPodReady).length, desired: d.spec?.replicas ?? 1 };
  }
  const failure = replicaFailure(d);
  if (failure) return { ...judged, outcome: { kind: 'failed', reason: failure, deployment: d, pods: [] } };
  const status = rolloutStatus(d);
  if (status.state === 'complete') return { ...judged, outcome: { kind: 'complete', deployment: d, message: status.message } };
  if (status.state === 'failed') return { ...judged, outcome: { kind: 'failed', reason: status.message, deployment: d, pods: v.pods.items.filter((p) => !isPodReady(p)) } };
  return judged;
}

/** The outcome when `timeoutMs` passed: where the rollout stood, and why the first pod not ready is not. */
export function rolloutTimeout(v: RolloutView, timeoutMs: number, description?: string): Extract<RolloutOutcome, { kind: 'timeout' }> {
  const status = v.deployment ? rolloutStatus(v.deployment).message : `Deployment "${v.name}" not seen`;
  const notReady = v.pods.items.filter((p) => !isPodReady(p));
  const why = notReady
    .map((p) => diagnosePod(p).reason)
    .filter(Boolean)
    .slice(0, 1);
  const stood = status.replace(/^Waiting for deployment "[^"]*" rollout to finish: /, '').replace(/\.\.\.$/, '');
  return {
    kind: 'timeout',
    reason: `${description ?? `Deployment ${v.name}`} did not finish within ${Math.round(timeoutMs / 1000)} s: ${stood}${why.length > 0 ? `; ${why[0]}` : ''}`,
    deployment: v.deployment,
    pods: notReady,
  };
}

/**
 * Waits until the Deployment's rollout completes by `kubectl rollout status`'s rules, fails (progress deadline,
 * Deployment deleted, a new pod diagnosed as fatal), `timeoutMs` passes or `signal` aborts. Resolves with the outcome;
 * rejects only with a `KubeApiError` the watches could not get past.
 */
export function waitForRollout(opts: WaitForRolloutOptions): Promise<RolloutOutcome> {
  if (opts.signal.aborted) return Promise.resolve({ kind: 'cancelled', pods: [] });
  return new Promise<RolloutOutcome>((resolve, reject) => new RolloutWaiter(opts, resolve, reject).start());
}

/**
 * One wait: what its watches have shown (the Deployment, its ReplicaSets, the pods of the ReplicaSet `podWatch`
 * follows), the ready count last reported, and whether it is `done`. Every change is judged afresh (judgeRollout).
 */
class RolloutWaiter {
  private readonly inner = new AbortController();
  private deployment: V1Deployment | undefined;
  private deploymentSeen = false;
  private replicaSets: ReadonlyMap<string, V1ReplicaSet> = new Map();
  private pods: ReadonlyMap<string, V1Pod> = new Map();
  private podWatch: { hash: string; ac: AbortController; synced: boolean } | undefined;
  private lastReady = -1;
  private done = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly onAbort = () => this.finish({ kind: 'cancelled', deployment: this.deployment, pods: this.newPods() });

  constructor(
    private readonly opts: WaitForRolloutOptions,
    private readonly resolve: (outcome: RolloutOutcome) => void,
    private readonly reject: (error: unknown) => void,
  ) {}

  start(): void {
    const { namespace, name, signal, created } = this.opts;
    signal.addEventListener('abort', this.onAbort, { once: true });
    this.timer = setTimeout(() => this.finish(rolloutTimeout(this.view(), this.opts.timeoutMs, this.opts.description)), this.opts.timeoutMs);
    this.follow<V1ReplicaSet>({ path: `/apis/apps/v1/namespaces/${namespace}/replicasets`, labelSelector: this.selector(), ...this.since([]) }, this.inner.signal, (objects) => {
      this.replicaSets = new Map(objects);
      this.evaluate();
    });
    const deployments = { path: `/apis/apps/v1/namespaces/${namespace}/deployments`, fieldSelector: `metadata.name=${name}`, ...this.since(created ? [created] : []) };
    this.follow<V1Deployment>(deployments, this.inner.signal, (objects, listed) => {
      this.deployment = objects.get(name);
      // Absent from a list (the first one included): it was deleted.
      if (listed || this.deployment) this.deploymentSeen = true;
      this.evaluate();
    });
  }

  /** Where a watch starts: from the Deployment's creation, with what existed then (`initial`); else by listing. */
  private since(initial: KubernetesObject[]) {
    return fromVersion(this.opts.created?.metadata?.resourceVersion, initial);
  }

  private selector(): string {
    return Object.entries(this.opts.selector)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
  }

  private newPods(): V1Pod[] {
    return [...this.pods.values()].filter((p) => !p.metadata?.deletionTimestamp);
  }

  private view(): RolloutView {
    const w = this.podWatch;
    const pods = { ...(w ? { hash: w.hash } : {}), synced: w?.synced ?? false, items: this.newPods() };
    return { name: this.opts.name, deployment: this.deployment, deploymentSeen: this.deploymentSeen, replicaSets: this.replicaSets.values(), pods };
  }

  private evaluate(): void {
    if (this.done) return;
    const judged = judgeRollout(this.view());
    if (judged.newHash && this.podWatch?.hash !== judged.newHash) this.watchPods(judged.newHash);
    if (judged.ready && judged.ready.ready !== this.lastReady) {
      this.lastReady = judged.ready.ready;
      this.opts.onProgress?.(judged.ready.ready, judged.ready.desired);
    }
    const outcome = judged.outcome;
    if (outcome?.kind === 'complete') {
      // Progress always ends with every replica ready, even when the last pod change came after the Deployment's.
      const desired = outcome.deployment.spec?.replicas ?? 1;
      if (this.lastReady !== desired) this.opts.onProgress?.(desired, desired);
    }
    if (outcome) this.finish(outcome);
  }

  /** Follows the pods of the ReplicaSet with pod-template-hash `hash` (instead of any earlier one's). */
  private watchPods(hash: string): void {
    this.podWatch?.ac.abort();
    const ac = new AbortController();
    const podWatch = { hash, ac, synced: false };
    this.podWatch = podWatch;
    this.pods = new Map();
    this.inner.signal.addEventListener('abort', () => ac.abort(), { once: true });
    const path = `/api/v1/namespaces/${this.opts.namespace}/pods`;
    this.follow<V1Pod>({ path, labelSelector: `${this.selector()},${POD_TEMPLATE_HASH_LABEL}=${hash}`, ...this.since([]) }, ac.signal, (objects, listed) => {
      if (this.podWatch !== podWatch) return;
      if (listed) podWatch.synced = true;
      this.pods = objects;
      this.opts.onPods?.(this.newPods());
      this.evaluate();
    });
  }

  /**
   * Watches `args` until `signal`, calling `update` with the objects after every list (`listed`) and every live
   * event; a re-list's synthetic events pass through a half-updated cache, so its state is judged once, after it.
   */
  private follow<T extends KubernetesObject>(
    args: Pick<WatchArgs, 'path' | 'labelSelector' | 'fieldSelector' | 'resourceVersion' | 'initial'>,
    signal: AbortSignal,
    update: (objects: ReadonlyMap<string, T>, listed: boolean) => void,
  ): void {
    const { client, logger, watch } = this.opts;
    watchObjects<T>({
      client,
      ...args,
      signal,
      idleTimeoutMs: watch?.idleTimeoutMs,
      backoff: watch?.backoff,
      logger,
      onSync: (objects) => update(objects, true),
      onEvent: (e, objects) => e.synthetic || update(objects, false),
    }).catch((e: unknown) => this.fail(e));
  }

  private finish(outcome: RolloutOutcome): void {
    if (this.stop()) this.resolve(outcome);
  }

  private fail(error: unknown): void {
    if (this.stop()) this.reject(error);
  }

  /** Ends the watches and the timer; false when the wait had ended already. */
  private stop(): boolean {
    if (this.done) return false;
    this.done = true;
    clearTimeout(this.timer);
    this.opts.signal.removeEventListener('abort', this.onAbort);
    this.podWatch?.ac.abort();
    this.inner.abort();
    return true;
  }
}
