/** The resource paths of the REST API: `/api/v1/…` and `/apis/{group}/{version}/…`. */
import type { ResourceType } from '../../types.js';
import { RESOURCE_TYPES } from '../resources.js';

export interface Route {
  group: string;
  version: string;
  resource: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
  /** Path after `proxy/`. */
  rest?: string;
  watchPrefix: boolean;
}

/** The resource, namespace, name and subresource a path addresses (AS pkg/endpoints/request/requestinfo.go). */
export function parseRoute(path: string): Route | undefined {
  const segs = path.split('/').filter((s) => s !== '').map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (segs[0] === 'api' && segs.length >= 2) {
    group = '';
    version = segs[1];
    rest = segs.slice(2);
  } else if (segs[0] === 'apis' && segs.length >= 3) {
    group = segs[1];
    version = segs[2];
    rest = segs.slice(3);
  } else return undefined;
  let watchPrefix = false;
  if (rest[0] === 'watch') {
    watchPrefix = true;
    rest = rest.slice(1);
  }
  const lookup = (res: string) => RESOURCE_TYPES.find((r) => r.group === group && r.version === version && r.resource === res);
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3 && !(rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'))) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const resource = lookup(rest[0] ?? '');
  if (!resource) return undefined;
  if (namespace !== undefined && !resource.namespaced) return undefined;
  const route: Route = { group, version, resource, namespace, watchPrefix };
  if (rest.length >= 2) route.name = rest[1];
  if (rest.length >= 3) {
    route.subresource = rest[2];
    if (rest[2] === 'proxy') route.rest = '/' + rest.slice(3).join('/');
    else if (rest.length > 3) return undefined;
    if (!resource.subresources.includes(rest[2])) return undefined;
  }
  return route;
}
