/**
 * The resource types the sandbox serves: the rows of discovery (`/api/v1`, `/apis/{g}/{v}`).
 * Names, kinds, short names, verbs and categories follow what a v1.32 kube-apiserver lists.
 */
import type { ResourceType } from '../types.js';

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function rt(
  group: string,
  version: string,
  resource: string,
  kind: string,
  namespaced: boolean,
  extra: Partial<ResourceType> = {},
): ResourceType {
  return {
    group,
    version,
    resource,
    singular: kind.toLowerCase(),
    kind,
    listKind: `${kind}List`,
    namespaced,
    subresources: [],
    verbs: ALL_VERBS,
    ...extra,
  };
}

export const RESOURCE_TYPES: readonly ResourceType[] = [
  rt('', 'v1', 'namespaces', 'Namespace', false, {
    shortNames: ['ns'],
    subresources: ['finalize', 'status'],
    // Namespaces have no deletecollection upstream.
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  }),
  rt('', 'v1', 'nodes', 'Node', false, { shortNames: ['no'], subresources: ['status'] }),
  rt('', 'v1', 'serviceaccounts', 'ServiceAccount', true, { shortNames: ['sa'], subresources: ['token'] }),
  rt('', 'v1', 'secrets', 'Secret', true),
  rt('', 'v1', 'configmaps', 'ConfigMap', true, { shortNames: ['cm'] }),
  rt('', 'v1', 'services', 'Service', true, { shortNames: ['svc'], subresources: ['proxy', 'status'], categories: ['all'] }),
  rt('', 'v1', 'endpoints', 'Endpoints', true, { singular: 'endpoints', shortNames: ['ep'] }),
  rt('', 'v1', 'pods', 'Pod', true, { shortNames: ['po'], subresources: ['binding', 'log', 'proxy', 'status'], categories: ['all'] }),
  rt('', 'v1', 'events', 'Event', true, { shortNames: ['ev'] }),
  rt('rbac.authorization.k8s.io', 'v1', 'roles', 'Role', true),
  rt('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding', true),
  rt('rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', false),
  rt('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', 'ClusterRoleBinding', false),
  rt('batch', 'v1', 'cronjobs', 'CronJob', true, { shortNames: ['cj'], subresources: ['status'], categories: ['all'] }),
  rt('batch', 'v1', 'jobs', 'Job', true, { subresources: ['status'], categories: ['all'] }),
  rt('apps', 'v1', 'deployments', 'Deployment', true, { shortNames: ['deploy'], subresources: ['scale', 'status'], categories: ['all'] }),
  rt('apps', 'v1', 'replicasets', 'ReplicaSet', true, { shortNames: ['rs'], subresources: ['scale', 'status'], categories: ['all'] }),
  rt('networking.k8s.io', 'v1', 'ingresses', 'Ingress', true, { shortNames: ['ing'], subresources: ['status'] }),
  rt('networking.k8s.io', 'v1', 'ingressclasses', 'IngressClass', false),
  rt('coordination.k8s.io', 'v1', 'leases', 'Lease', true),
];

export { keyOf } from '../machinery/resource-key.js';

export function apiVersionOf(r: Pick<ResourceType, 'group' | 'version'>): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** Verbs of a subresource row in discovery. */
export function subresourceVerbs(sub: string): string[] {
  switch (sub) {
    case 'log':
      return ['get'];
    case 'finalize':
      return ['update'];
    case 'binding':
    case 'token':
      return ['create'];
    case 'proxy':
      return ['create', 'delete', 'get', 'patch', 'update'];
    default:
      return ['get', 'patch', 'update'];
  }
}

/** Kind (and group/version when not the parent's) of a subresource row. */
export function subresourceKind(parent: ResourceType, sub: string): { kind: string; group?: string; version?: string } {
  if (sub === 'scale') return { kind: 'Scale', group: 'autoscaling', version: 'v1' };
  if (sub === 'binding') return { kind: 'Binding' };
  if (sub === 'token') return { kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1' };
  if (sub === 'proxy') return { kind: parent.resource === 'pods' ? 'PodProxyOptions' : 'ServiceProxyOptions' };
  return { kind: parent.kind };
}

/** Types with a status subresource: main-resource writes keep the stored status. */
export function hasStatusSubresource(r: ResourceType): boolean {
  return r.subresources.includes('status');
}
