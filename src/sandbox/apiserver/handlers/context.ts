/** What the request handlers share: the store, the watch hub, fault injection and the server's own state. */
import type { Dialer } from '../../network/dial.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClusterStore, KubeObject, PodLogSource, ResourceKey } from '../../types.js';
import type { FaultInjector } from '../faults.js';
import type { WatchHub } from '../watch.js';
import type { Discovery } from './discovery.js';

export interface HandlerContext {
  store: ClusterStore;
  hub: WatchHub;
  discovery: Discovery;
  /** An in-process log source (API server tests); unset, pods/log is proxied to the kubelet of the pod's Node. */
  logs?: PodLogSource;
  /** The API server's client certificate for kubelets (pods/log). */
  kubeletClient?: { cert: string; key: string; ca: string };
  /** How the proxy subresources reach pod IPs (a rootless node's); unset: directly. */
  dial?: Dialer;
  /** The fault injector for one request, if any applies to it. */
  faultsFor(req: IncomingMessage): FaultInjector | undefined;
  /** Interval of BOOKMARK events on watches with allowWatchBookmarks. */
  bookmarkMs: number;
  /** Watches being served (ended when the server closes). */
  openWatches: Set<ServerResponse>;
  /** Tokens TokenRequest issued, with their expiry (ms since the epoch). */
  serviceAccountTokens: Map<string, number>;
}

/**
 * The stored object itself, frozen (the store's `peek`), for a handler that only reads it or sends it as JSON; the
 * store's NotFound when there is none.
 */
export function storedObject(ctx: Pick<HandlerContext, 'store'>, key: ResourceKey, namespace: string | undefined, name: string): KubeObject {
  return ctx.store.peek(key, namespace, name) ?? ctx.store.get(key, namespace, name);
}
