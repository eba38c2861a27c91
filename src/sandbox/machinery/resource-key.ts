/** How the sandbox addresses a resource type (a ResourceKey): 'pods', 'apps/deployments', 'batch/jobs'. */
import type { ResourceKey, ResourceType } from '../types.js';

export function keyOf(r: Pick<ResourceType, 'group' | 'resource'>): ResourceKey {
  return r.group ? `${r.group}/${r.resource}` : r.resource;
}
