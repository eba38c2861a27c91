/** The one client-node API KubeClient (client.ts) calls through: the generic KubernetesObjectApi, its discovery shared. */
import { KubernetesObjectApi, type Configuration, type V1APIResource } from '@kubernetes/client-node';

/**
 * client-node's generic API with its discovery shared: `warm` fetches ahead the resource lists of the group versions a
 * run will use, so they are concurrent requests at the start instead of serial round trips on its critical path,
 * and a call that needs a list being fetched waits for it instead of fetching it again.
 */
export class ObjectApi extends KubernetesObjectApi {
  private readonly pending = new Map<string, Promise<unknown>>();

  /** Starts fetching the resource list of `apiVersion` unless it is known or on its way. */
  warm(apiVersion: string, kind: string): void {
    if (this.apiVersionResourceCache[apiVersion] !== undefined || this.pending.has(apiVersion)) return;
    // A failure here is the calling request's to report: it fetches again and fails (or retries) as usual.
    const fetched = super.resource(apiVersion, kind).catch(() => undefined);
    this.pending.set(apiVersion, fetched);
    void fetched.finally(() => this.pending.delete(apiVersion));
  }

  protected override async resource(apiVersion: string, kind: string, options?: Configuration): Promise<V1APIResource | undefined> {
    await this.pending.get(apiVersion);
    return super.resource(apiVersion, kind, options);
  }
}

/** The API clients, for calls through `KubeClient.call`. */
export interface KubeApis {
  objects: ObjectApi;
}
