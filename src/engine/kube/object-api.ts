/** The one client-node API KubeClient (client.ts) calls through: the generic KubernetesObjectApi, its discovery shared. */
import { KubernetesObjectApi, type Configuration, type V1APIResource } from '@kubernetes/client-node';
import { knownMapping } from './client-types.js';

/**
 * client-node's generic API, with no discovery for the built-in kinds of KNOWN_KINDS (client-types.ts says why) and
 * the discovery of others shared: `warm` fetches ahead the resource lists of the group versions a
 * run will use, so they are concurrent requests at the start instead of serial round trips on its critical path,
 * and a call that needs a list being fetched waits for it instead of fetching it again.
 */
export class ObjectApi extends KubernetesObjectApi {
  private readonly pending = new Map<string, Promise<unknown>>();

  /** Starts fetching the resource list of `apiVersion` unless it is known or on its way. */
  warm(apiVersion: string, kind: string): void {
    if (knownMapping(apiVersion, kind) !== undefined) return;
    if (this.apiVersionResourceCache[apiVersion] !== undefined || this.pending.has(apiVersion)) return;
    // A failure here is the calling request's to report: it fetches again and fails (or retries) as usual.
    const fetched = super.resource(apiVersion, kind).catch(() => undefined);
    this.pending.set(apiVersion, fetched);
    void fetched.finally(() => this.pending.delete(apiVersion));
  }

  protected override async resource(apiVersion: string, kind: string, options?: Configuration): Promise<V1APIResource | undefined> {
    const known = knownMapping(apiVersion, kind);
    // client-node's paths read only `name` and `namespaced`.
    if (known) return { kind, name: known.resource, namespaced: known.namespaced, singularName: kind.toLowerCase(), verbs: [] };
    await this.pending.get(apiVersion);
    return super.resource(apiVersion, kind, options);
  }
}

/** The API clients, for calls through `KubeClient.call`. */
export interface KubeApis {
  objects: ObjectApi;
}
