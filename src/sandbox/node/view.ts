/**
 * The node's view of the cluster, read through the API like upstream's node agents read it: list+watch caches of
 * the pods bound to this node (`fieldSelector=spec.nodeName=<node>`), of Services and Endpoints (the Service proxy,
 * /etc/hosts and service variables), and of each Secret/ConfigMap a pod on this node references — one watch per
 * object with `fieldSelector=metadata.name=<name>`, as the kubelet's watch-based secret manager does, since the Node
 * authorizer allows nothing wider. ServiceAccount tokens come from the TokenRequest API, bound to their pod.
 *
 * Reads are synchronous, from the caches (ObjectReader, the shape of ClusterStore's reads, so the kubelet and network
 * code read a ClusterStore and this view alike); listeners hear every cache change in order.
 *
 * Watching is the engine's `watchObjects` (engine/kube/watch.ts), not client-node's informer: it resumes every ended
 * watch from the last resourceVersion seen, re-lists on 410 with synthetic events for the difference, and retries
 * failures with back-off where the informer stops for good (see that file). `raw` keeps objects as sent.
 */
import { watchObjects } from '../../engine/kube/watch.js';
import type { KubeletApi } from '../kubelet/api.js';
import { systemClock, type Clock } from '../machinery/clock.js';
import type { KubeObject } from '../types.js';
import { collectionPath, NodeApiError, type NodeHttp } from './http.js';

export type ViewKey = 'pods' | 'services' | 'endpoints' | 'secrets' | 'configmaps' | 'tokens';

export interface ViewEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  key: string;
  object: KubeObject;
  old?: KubeObject;
}

/** What the kubelet and the network read (ClusterStore satisfies it too). */
export interface ObjectReader {
  find(key: string, namespace: string | undefined, name: string): KubeObject | undefined;
  list(key: string, namespace: string | undefined): { items: KubeObject[] };
  subscribe(listener: (event: ViewEvent) => void): () => void;
}

/** Placeholder token where the API server has no TokenRequest API (the embedded one): programs find a file. */
export const PLACEHOLDER_TOKEN = 'sandbox-service-account-token';

interface RefWatch {
  refs: Set<string>;
  abort: AbortController;
  synced: Promise<void>;
}

export interface NodeViewOptions {
  nodeName: string;
  log?: (message: string) => void;
  /** Pause before restarting a watch that gave up (default 1000 ms). */
  restartMs?: number;
  /** Time for that pause (default the system clock). */
  clock?: Clock;
}

const k = (ns: string | undefined, name: string): string => `${ns ?? ''}/${name}`;

export class NodeView implements KubeletApi {
  private readonly caches = new Map<string, Map<string, KubeObject>>();
  private readonly listeners = new Set<(event: ViewEvent) => void>();
  private readonly stopAll = new AbortController();
  private readonly refWatches = new Map<string, RefWatch>();
  private readonly podRefs = new Map<string, string[]>();
  private readonly tokens = new Map<string, string>();
  private readonly tokenFetches = new Map<string, Promise<void>>();
  private readonly log: (m: string) => void;

  constructor(
    readonly http: NodeHttp,
    private readonly opts: NodeViewOptions,
  ) {
    this.log = opts.log ?? (() => {});
    for (const key of ['pods', 'services', 'endpoints', 'secrets', 'configmaps']) this.caches.set(key, new Map());
  }

  get nodeName(): string {
    return this.opts.nodeName;
  }

  /** Starts the pod, Service and Endpoints watches; resolves once each has listed. */
  async start(): Promise<void> {
    await Promise.all([
      this.watch('pods', collectionPath('', 'v1', 'pods'), `spec.nodeName=${this.opts.nodeName}`, this.stopAll.signal),
      this.watch('services', collectionPath('', 'v1', 'services'), undefined, this.stopAll.signal),
      this.watch('endpoints', collectionPath('', 'v1', 'endpoints'), undefined, this.stopAll.signal),
    ]);
  }

  stop(): void {
    this.stopAll.abort();
    for (const w of this.refWatches.values()) w.abort.abort();
    this.refWatches.clear();
    this.listeners.clear();
  }

  find(key: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.caches.get(key)?.get(k(namespace, name));
  }

  list(key: string, namespace: string | undefined): { items: KubeObject[] } {
    const items = [...(this.caches.get(key)?.values() ?? [])].filter((o) => namespace === undefined || o.metadata.namespace === namespace);
    return { items };
  }

  subscribe(listener: (event: ViewEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: ViewEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(event);
      } catch (err) {
        this.log(`node view: listener failed on ${event.key}: ${(err as Error).message}`);
      }
    }
  }

  /**
   * One list+watch into the cache under `key`, kept alive until `signal` aborts: the engine's watch already
   * resumes and re-lists; when it gives up (a 403 before the Node authorizer knows of a new reference, too many
   * failures) it is started again after `restartMs`. Resolves after the first list.
   */
  private watch(key: string, path: string, fieldSelector: string | undefined, signal: AbortSignal): Promise<void> {
    const cache = this.caches.get(key)!;
    const mine = new Set<string>();
    let synced!: () => void;
    const first = new Promise<void>((r) => (synced = r));
    const run = async (): Promise<void> => {
      while (!signal.aborted) {
        try {
          await watchObjects<any>({
            client: this.http.client,
            path,
            fieldSelector,
            signal,
            raw: true,
            maxConsecutiveFailures: Number.POSITIVE_INFINITY,
            onEvent: (ev) => {
              const o = ev.object as KubeObject;
              const id = k(o.metadata.namespace, o.metadata.name!);
              const old = cache.get(id);
              if (ev.type === 'DELETED') {
                if (!old) return;
                cache.delete(id);
                mine.delete(id);
              } else {
                cache.set(id, o);
                mine.add(id);
              }
              this.emit({ type: ev.type === 'DELETED' ? 'DELETED' : old ? 'MODIFIED' : 'ADDED', key, object: o, ...(old ? { old } : {}) });
            },
            onSync: () => synced(),
          });
        } catch (err) {
          if (signal.aborted) break;
          this.log(`node view: watch of ${path}${fieldSelector ? `?fieldSelector=${fieldSelector}` : ''}: ${(err as Error).message}`);
          synced(); // readers see "not found" meanwhile rather than waiting forever
          await new Promise<void>((r) => (this.opts.clock ?? systemClock).after(this.opts.restartMs ?? 1000, r));
        }
      }
      // A released reference: its objects leave the cache.
      for (const id of mine) {
        const old = cache.get(id);
        cache.delete(id);
        if (old && !this.stopAll.signal.aborted) this.emit({ type: 'DELETED', key, object: old, old });
      }
    };
    void run();
    return first;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Writes

  /**
   * A merge patch of the `status` subresource carrying the pod's uid (a pod recreated under the same name answers
   * 409, as upstream's PatchPodStatus). Status fields the kubelet owns and no longer reports are set to null.
   */
  async patchPodStatus(pod: KubeObject, status: Record<string, unknown>): Promise<KubeObject> {
    const body: Record<string, unknown> = { ...status };
    for (const f of ['reason', 'message', 'initContainerStatuses', 'podIP', 'podIPs']) if (pod.status?.[f] !== undefined && body[f] === undefined) body[f] = null;
    const path = `${collectionPath('', 'v1', 'pods', pod.metadata.namespace)}/${encodeURIComponent(pod.metadata.name!)}/status`;
    return this.http.request('PATCH', path, { metadata: { uid: pod.metadata.uid }, status: body }, 'application/merge-patch+json');
  }

  async confirmPodDeletion(namespace: string, name: string, uid: string): Promise<void> {
    const path = `${collectionPath('', 'v1', 'pods', namespace)}/${encodeURIComponent(name)}`;
    await this.http.request('DELETE', path, { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid } });
  }

  // -------------------------------------------------------------------------------------------------------------
  // Per-pod references: Secrets, ConfigMaps, ServiceAccount tokens

  /** Starts watching what `pod` references; resolves once each watch listed (its tokens are fetched too). */
  async reference(pod: KubeObject): Promise<void> {
    const uid = pod.metadata.uid!;
    const ns = pod.metadata.namespace!;
    const refs = podReferences(pod);
    const keys = refs.map((r) => `${r.kind}:${ns}/${r.name}`);
    const waits: Promise<void>[] = [];
    for (const r of refs) {
      const id = `${r.kind}:${ns}/${r.name}`;
      let w = this.refWatches.get(id);
      if (!w) {
        const abort = new AbortController();
        this.stopAll.signal.addEventListener('abort', () => abort.abort(), { once: true });
        w = { refs: new Set(), abort, synced: this.watch(r.kind, collectionPath('', 'v1', r.kind, ns), `metadata.name=${r.name}`, abort.signal) };
        this.refWatches.set(id, w);
      }
      w.refs.add(uid);
      waits.push(w.synced);
    }
    this.podRefs.set(uid, keys);
    for (const src of tokenSources(pod)) waits.push(this.fetchToken(pod, src));
    await Promise.all(waits);
  }

  /** Stops the watches only `uid` needed and forgets its tokens. */
  release(uid: string): void {
    for (const id of this.podRefs.get(uid) ?? []) {
      const w = this.refWatches.get(id);
      if (!w) continue;
      w.refs.delete(uid);
      if (w.refs.size === 0) {
        this.refWatches.delete(id);
        w.abort.abort();
      }
    }
    this.podRefs.delete(uid);
    for (const key of [...this.tokens.keys()]) if (key.startsWith(`${uid}/`)) this.tokens.delete(key);
  }

  /** The token for a projected serviceAccountToken source, once fetched; undefined starts (another) fetch. */
  token(pod: KubeObject, source: { audience?: string; expirationSeconds?: number; path: string }): string | undefined {
    const t = this.tokens.get(tokenKey(pod, source));
    if (t === undefined) void this.fetchToken(pod, source);
    return t;
  }

  private fetchToken(pod: KubeObject, source: { audience?: string; expirationSeconds?: number }): Promise<void> {
    const key = tokenKey(pod, source);
    const inflight = this.tokenFetches.get(key);
    if (inflight) return inflight;
    const ns = pod.metadata.namespace!;
    const sa = pod.spec?.serviceAccountName || 'default';
    // K pkg/volume/projected/projected.go collectData: TokenRequest bound to the pod, audience from the source.
    const body = {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {
        audiences: source.audience ? [source.audience] : [],
        expirationSeconds: source.expirationSeconds ?? 3600,
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid },
      },
    };
    const p = this.http
      .request('POST', `${collectionPath('', 'v1', 'serviceaccounts', ns)}/${encodeURIComponent(sa)}/token`, body)
      .then((tr: any) => {
        this.tokens.set(key, String(tr?.status?.token ?? ''));
      })
      .catch((err) => {
        // 404: the server has no TokenRequest API (the embedded one; its ServiceAccounts have no tokens).
        if (err instanceof NodeApiError && err.code === 404) this.tokens.set(key, PLACEHOLDER_TOKEN);
        else this.log(`node view: token for ${ns}/${pod.metadata.name} (service account ${sa}): ${(err as Error).message}`);
      })
      .finally(() => {
        this.tokenFetches.delete(key);
        if (this.tokens.has(key)) this.emit({ type: 'ADDED', key: 'tokens', object: pod });
      });
    this.tokenFetches.set(key, p);
    return p;
  }
}

function tokenKey(pod: KubeObject, source: { audience?: string; expirationSeconds?: number }): string {
  return `${pod.metadata.uid}/${source.audience ?? ''}/${source.expirationSeconds ?? ''}`;
}

function tokenSources(pod: KubeObject): { audience?: string; expirationSeconds?: number; path: string }[] {
  const out: any[] = [];
  for (const v of pod.spec?.volumes ?? []) for (const s of v.projected?.sources ?? []) if (s.serviceAccountToken) out.push(s.serviceAccountToken);
  return out;
}

/** Every Secret and ConfigMap the pod references: volumes, env, envFrom, image pull secrets (the Node authorizer allows them all). */
export function podReferences(pod: KubeObject): { kind: 'secrets' | 'configmaps'; name: string }[] {
  const out = new Map<string, { kind: 'secrets' | 'configmaps'; name: string }>();
  const add = (kind: 'secrets' | 'configmaps', name: unknown): void => {
    if (typeof name === 'string' && name) out.set(`${kind}/${name}`, { kind, name });
  };
  for (const v of pod.spec?.volumes ?? []) {
    add('configmaps', v.configMap?.name);
    add('secrets', v.secret?.secretName);
    for (const s of v.projected?.sources ?? []) {
      add('configmaps', s.configMap?.name);
      add('secrets', s.secret?.name);
    }
  }
  for (const r of pod.spec?.imagePullSecrets ?? []) add('secrets', r?.name);
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const f of c.envFrom ?? []) {
      add('configmaps', f.configMapRef?.name);
      add('secrets', f.secretRef?.name);
    }
    for (const e of c.env ?? []) {
      add('configmaps', e.valueFrom?.configMapKeyRef?.name);
      add('secrets', e.valueFrom?.secretKeyRef?.name);
    }
  }
  return [...out.values()];
}
