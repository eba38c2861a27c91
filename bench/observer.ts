/**
 * What the cluster did, seen from outside either deployer: one cluster-wide watch per kind, each event stamped with
 * the bench's clock on arrival. API timestamps (creationTimestamp, startedAt, finishedAt) have 1 s resolution, too
 * coarse for 100 ms targets, so "when" here is when the change reached a watcher: the same latency for ours and kubectl.
 */
import { KubeClient, loadKubeConfig, watchObjects } from '../src/engine/kube/index.js';
import { nullLogger } from '../src/engine/logger.js';

interface Seen {
  /** First seen at all (ADDED): the object exists in the API. */
  created: number;
  /** Pods: first seen bound to a node (the scheduler's part done). */
  scheduled?: number;
  /** Pods: first seen with a container running / terminated / the Ready condition True. */
  running?: number;
  terminated?: number;
  ready?: number;
  labels: Record<string, string>;
}

const PATHS = { Pod: '/api/v1/pods', Job: '/apis/batch/v1/jobs', Deployment: '/apis/apps/v1/deployments' } as const;
export type ObservedKind = keyof typeof PATHS;

export class Observer {
  /** A client of its own, so the engine's request counts are the engine's alone. */
  readonly client: KubeClient;
  private readonly seen = new Map<string, Seen>();
  private readonly controller = new AbortController();
  private readonly done: Promise<unknown>;

  constructor(kubeconfig: string) {
    this.client = KubeClient.create(loadKubeConfig({ content: kubeconfig }).kc, nullLogger);
    this.done = Promise.allSettled(
      Object.entries(PATHS).map(([kind, path]) =>
        watchObjects<any>({ client: this.client, path, raw: true, signal: this.controller.signal, onEvent: (e) => this.record(kind as ObservedKind, e.object) }),
      ),
    );
  }

  private record(kind: ObservedKind, o: any): void {
    const now = Date.now();
    const key = `${kind}/${o.metadata.namespace}/${o.metadata.name}`;
    let s = this.seen.get(key);
    if (!s) this.seen.set(key, (s = { created: now, labels: o.metadata.labels ?? {} }));
    if (kind !== 'Pod') return;
    if (s.scheduled === undefined && o.spec?.nodeName) s.scheduled = now;
    const states = (o.status?.containerStatuses ?? []).map((c: any) => c.state ?? {});
    if (s.running === undefined && states.some((st: any) => st.running || st.terminated)) s.running = now;
    if (s.terminated === undefined && states.length > 0 && states.every((st: any) => st.terminated)) s.terminated = now;
    if (s.ready === undefined && (o.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True')) s.ready = now;
  }

  /** When `kind` `namespace/name` was first seen. */
  created(kind: ObservedKind, namespace: string, name: string): number | undefined {
    return this.seen.get(`${kind}/${namespace}/${name}`)?.created;
  }

  /** When the first `kind` in `namespace` whose labels include `selector` was seen (a Job named by a run id the bench does not know). */
  firstCreated(kind: ObservedKind, namespace: string, selector: Record<string, string>): number | undefined {
    const prefix = `${kind}/${namespace}/`;
    const times = [...this.seen.entries()].filter(([k, s]) => k.startsWith(prefix) && Object.entries(selector).every(([l, v]) => s.labels[l] === v)).map(([, s]) => s.created);
    return times.length > 0 ? Math.min(...times) : undefined;
  }

  /** The pods seen in `namespace` whose labels include `selector`, with their names. */
  pods(namespace: string, selector: Record<string, string>): (Seen & { name: string })[] {
    const prefix = `Pod/${namespace}/`;
    return [...this.seen.entries()]
      .filter(([k, s]) => k.startsWith(prefix) && Object.entries(selector).every(([l, v]) => s.labels[l] === v))
      .map(([k, s]) => ({ ...s, name: k.slice(prefix.length) }));
  }

  async stop(): Promise<void> {
    this.controller.abort();
    await this.done;
  }
}
