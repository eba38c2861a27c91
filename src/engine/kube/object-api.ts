/** The one client-node API KubeClient (client.ts) calls through: the generic KubernetesObjectApi. */
import { KubernetesObjectApi, type Configuration, type V1APIResource } from '@kubernetes/client-node';
import { knownMapping } from './client-types.js';

/**
 * client-node's generic API, with no discovery for the built-in kinds of KNOWN_KINDS (client-types.ts says why);
 * other kinds are discovered as client-node does, once per group version.
 */
export class ObjectApi extends KubernetesObjectApi {
  protected override async resource(apiVersion: string, kind: string, options?: Configuration): Promise<V1APIResource | undefined> {
    const known = knownMapping(apiVersion, kind);
    // client-node's paths read only `name` and `namespaced`.
    if (known) return { kind, name: known.resource, namespaced: known.namespaced, singularName: kind.toLowerCase(), verbs: [] };
    return super.resource(apiVersion, kind, options);
  }
}

/** The API clients, for calls through `KubeClient.call`. */
export interface KubeApis {
  objects: ObjectApi;
}
